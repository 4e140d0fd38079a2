"""Filing a new story: the one way every flow that tells a story (the share form, a clip) makes its draft."""

from __future__ import annotations

from django.db import transaction

from stories.models import Person, StoryIndexPage, StoryPage
from stories.slugs import free_slug


@transaction.atomic
def create_draft(
    user,
    *,
    title: str,
    source: str,
    slug_max_length: int,
    allow_unicode_slug: bool = False,
    **values,
) -> StoryPage:
    """A draft story in the library, owned and told by `user`, saved with its first revision.

    `values` are the story's other attributes, relations included: they are set before the page is
    first saved, so the first revision holds all of them. Each flow keeps its own slug rule (the
    share form keeps a title's accents, a clip's suggested title is cut shorter); both fall back to
    "story" for a title with no letters. Sending the draft to review is the caller's step.
    """
    library = StoryIndexPage.get_library()
    story = StoryPage(
        title=title, owner=user, teller=Person.for_user(user), source=source, live=False, **values
    )
    story.slug = free_slug(
        title,
        lambda slug: library.get_children().filter(slug=slug).exists(),
        max_length=slug_max_length,
        fallback="story",
        allow_unicode=allow_unicode_slug,
    )
    library.add_child(instance=story)
    story.save_revision(user=user, log_action=True)
    return story
