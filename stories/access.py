"""Who may open a file under /media/ or a person's page: the visibility rule applied to them.

A file or a person is seen by those who may see a story that uses it (`stories.visibility`
decides which stories those are), so nothing here has a rule of its own beyond "editors always".
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q, QuerySet
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.models import Page, ReferenceIndex

from stories.models import Clip, Person, StoryPage
from stories.visibility import is_editor, is_signed_in

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
    page_type = ContentType.objects.get_for_model(Page)
    ids = (
        ReferenceIndex.get_references_to(obj)
        .filter(base_content_type=page_type)
        .values_list("object_id", flat=True)
    )
    return [int(pk) for pk in ids if str(pk).isdigit()]


def user_may_see_image(user, image) -> bool:
    """A picture is seen by those who may see a story using it (cover, poster, body) or the person it shows."""
    if is_editor(user):
        return True
    if is_signed_in(user) and image.uploaded_by_user_id == user.pk:
        return True
    stories = StoryPage.objects.openable_by(user)
    uses = Q(cover_image=image) | Q(clip__poster=image) | Q(pk__in=_stories_referencing(image))
    if stories.filter(uses).exists():
        return True
    return any(person_is_listed(person, user) for person in Person.objects.filter(photo=image))


def user_may_see_document(user, document) -> bool:
    if is_editor(user):
        return True
    if is_signed_in(user) and document.uploaded_by_user_id == user.pk:
        return True
    return StoryPage.objects.openable_by(user).filter(pk__in=_stories_referencing(document)).exists()


def user_may_see_clip(user, clip) -> bool:
    return is_editor(user) or StoryPage.objects.openable_by(user).filter(clip=clip).exists()


def user_may_read_media(user, relative_path: str) -> bool:
    """Whether `user` may download the file at `relative_path` (normalised, relative to MEDIA_ROOT).

    Unknown folders and files that no row owns are for editors only: the default is to refuse.
    """
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


def listed_people(people: QuerySet[Person], user) -> QuerySet[Person]:
    """Those of `people` this reader may know of: everyone when signed in, else people in a public story.

    One query for any number of people (autocomplete and facets name dozens at a time).
    """
    if is_signed_in(user):
        return people
    # Correlated per person, so each check walks that person's stories by index, never the library.
    told = StoryPage.objects.visible_to(user).filter(teller=OuterRef("pk"))
    helped = StoryPage.objects.visible_to(user).filter(people=OuterRef("pk"))
    return people.filter(Q(Exists(told)) | Q(Exists(helped)))


def person_is_listed(person, user) -> bool:
    """Signed-in readers may open anyone's page; anonymous readers only people with public stories."""
    if is_signed_in(user):
        return True
    return listed_people(Person.objects.filter(pk=person.pk), user).exists()
