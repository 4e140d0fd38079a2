"""Related stories for a story page, ranked by the search index (registered with `stories.related`)."""

from __future__ import annotations

from search.backends import get_backend
from search.backends.base import SearchUnavailable
from search.documents import story_document
from search.service import can_see_staff_stories, waiting_updates
from stories.models import StoryPage
from stories.related import stories_sharing_a_theme


def related_stories(story, user, limit: int = 3) -> list:
    """Stories most like `story` that `user` may read (from the index; by shared themes if it is down).

    Registered with `stories.related` when the app starts, so a story page shows these.
    """
    visible = StoryPage.objects.visible_to(user)
    try:
        ids = get_backend().related(
            story_document(story),
            include_staff=can_see_staff_stories(user),
            limit=limit + 3,
            hidden_ids=waiting_updates(user).hidden_ids,
        )
    except SearchUnavailable:
        return stories_sharing_a_theme(story, user, limit)
    found = visible.in_bulk(ids)
    return [found[story_id] for story_id in ids if story_id in found and story_id != story.pk][:limit]
