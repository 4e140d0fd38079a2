"""Who may see what: the one visibility policy every surface asks.

Pages, listings, counts, search, feeds, the API, the sitemap, transcripts and every file under
/media/ decide through the rules here (files and people through `stories.access`, which applies
them), so a draft, a staff-only story or a withdrawn one reaches nobody who may not read it,
whichever door they try.

The rule, in words:
- a published public story: everyone;
- a published staff-only story: every signed-in user;
- a draft, a story in review or an unpublished one: its owner, and editors;
- a file (clip, picture and its renditions, poster frame, document): whoever may see at least one
  story that uses it (its owner too); editors always; nobody else, including for files that
  belong to no story.

The rules take the stories they narrow and import no models: the models apply them
(`StoryPage.objects.visible_to(user)`), and Wagtail loads `stories.review`, which asks
`is_editor`, while its own models are still loading.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q, QuerySet

EDITORS_GROUP = "Editors"
STORYTELLERS_GROUP = "Storytellers"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public"
    STAFF = "staff", "Staff only (signed-in users)"


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


def readable_stories(stories: QuerySet, user) -> QuerySet:
    """Narrow a StoryPage queryset to the published stories `user` may read."""
    stories = stories.live().public()
    if not may_read_staff_stories(user):
        stories = stories.filter(visibility=Visibility.PUBLIC)
    return stories


def openable_stories(stories: QuerySet, user) -> QuerySet:
    """Narrow a StoryPage queryset to those whose content `user` may see in any state.

    Readable ones, the user's own, or all of them for editors.
    """
    if is_editor(user):
        return stories
    readable = readable_stories(stories, user)
    if not is_signed_in(user):
        return readable
    return stories.filter(Q(pk__in=readable.values("pk")) | Q(owner=user))
