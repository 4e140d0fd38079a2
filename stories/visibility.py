"""Who may see what: the one visibility policy every surface asks.

Pages, listings, counts, search, feeds, the API, the sitemap, transcripts and every file under
/media/ decide through the functions here, so a draft, a staff-only story or a withdrawn one
reaches nobody who may not read it, whichever door they try.

The rule, in words:
- a published public story: everyone;
- a published staff-only story: every signed-in user;
- a draft, a story in review or an unpublished one: its owner, and editors;
- a file (clip, picture and its renditions, poster frame, document): whoever may see at least one
  story that uses it (its owner too); editors always; nobody else, including for files that
  belong to no story.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

EDITORS_GROUP = "Editors"
STORYTELLERS_GROUP = "Storytellers"


def is_signed_in(user) -> bool:
    return bool(user is not None and user.is_authenticated)


def is_editor(user) -> bool:
    """Superusers and members of the Editors group: they curate, so they see everything."""
    if not is_signed_in(user) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_storybank_is_editor", None)
    if cached is None:
        cached = user.groups.filter(name=EDITORS_GROUP).exists()
        user._storybank_is_editor = cached
    return cached


def may_read_staff_stories(user) -> bool:
    """Staff-only stories are for everyone signed in."""
    return is_signed_in(user)


def readable_stories(queryset: QuerySet, user) -> QuerySet:
    """Narrow a StoryPage queryset to the published stories `user` may read."""
    from stories.models import Visibility

    queryset = queryset.live().public()
    if not may_read_staff_stories(user):
        queryset = queryset.filter(visibility=Visibility.PUBLIC)
    return queryset


def openable_stories(user) -> QuerySet:
    """Stories whose content `user` may see in any state: readable ones, their own, or all for editors."""
    from stories.models import StoryPage

    if is_editor(user):
        return StoryPage.objects.all()
    readable = readable_stories(StoryPage.objects.all(), user)
    if not is_signed_in(user):
        return readable
    return StoryPage.objects.filter(Q(pk__in=readable.values("pk")) | Q(owner=user))


# --- Files under MEDIA_ROOT -------------------------------------------------------------------

# The folder each kind of upload is stored in (Django/Wagtail `upload_to`), and how to find the
# stories that use a file there.
CLIPS_FOLDER = "clips"
ORIGINAL_IMAGES_FOLDER = "original_images"
RENDITIONS_FOLDER = "images"
DOCUMENTS_FOLDER = "documents"


def _stories_referencing(obj) -> list[int]:
    """Story ids whose page content refers to `obj` (body blocks, rich text), from Wagtail's reference index.

    Wagtail updates that index in a background task: a new reference counts once the worker has
    run it (until then the file stays private, the safe side).
    """
    from wagtail.models import Page, ReferenceIndex

    page_type = ContentType.objects.get_for_model(Page)
    ids = (
        ReferenceIndex.get_references_to(obj)
        .filter(base_content_type=page_type)
        .values_list("object_id", flat=True)
    )
    return [int(pk) for pk in ids if str(pk).isdigit()]


def user_may_see_image(user, image) -> bool:
    """A picture is seen by those who may see a story using it (cover, poster, body) or the person it shows."""
    from stories.models import Person

    if is_editor(user):
        return True
    if is_signed_in(user) and image.uploaded_by_user_id == user.pk:
        return True
    stories = openable_stories(user)
    uses = Q(cover_image=image) | Q(clip__poster=image) | Q(pk__in=_stories_referencing(image))
    if stories.filter(uses).exists():
        return True
    return any(person_is_listed(person, user) for person in Person.objects.filter(photo=image))


def user_may_see_document(user, document) -> bool:
    if is_editor(user):
        return True
    if is_signed_in(user) and document.uploaded_by_user_id == user.pk:
        return True
    return openable_stories(user).filter(pk__in=_stories_referencing(document)).exists()


def user_may_see_clip(user, clip) -> bool:
    return is_editor(user) or openable_stories(user).filter(clip=clip).exists()


def user_may_read_media(user, relative_path: str) -> bool:
    """Whether `user` may download the file at `relative_path` (normalised, relative to MEDIA_ROOT).

    Unknown folders and files that no row owns are for editors only: the default is to refuse.
    """
    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model

    from stories.models import Clip

    if is_editor(user):
        return True
    folder = relative_path.split("/", 1)[0]
    if folder == CLIPS_FOLDER:
        clip = Clip.objects.filter(file=relative_path).first()
        return clip is not None and user_may_see_clip(user, clip)
    if folder == ORIGINAL_IMAGES_FOLDER:
        image = get_image_model().objects.filter(file=relative_path).first()
        return image is not None and user_may_see_image(user, image)
    if folder == RENDITIONS_FOLDER:
        rendition_model = get_image_model().get_rendition_model()
        rendition = rendition_model.objects.filter(file=relative_path).select_related("image").first()
        return rendition is not None and user_may_see_image(user, rendition.image)
    if folder == DOCUMENTS_FOLDER:
        document = get_document_model().objects.filter(file=relative_path).first()
        return document is not None and user_may_see_document(user, document)
    return False


# --- People -----------------------------------------------------------------------------------


def person_is_listed(person, user) -> bool:
    """Signed-in readers may open anyone's page; anonymous readers only people with public stories."""
    from stories.models import StoryPage

    if is_signed_in(user):
        return True
    readable = readable_stories(StoryPage.objects.all(), user)
    return readable.filter(Q(teller=person) | Q(people=person)).exists()
