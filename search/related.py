"""Related stories for a story page, ranked by the search index (registered with `stories.related`)."""

from __future__ import annotations

from search.backends import get_backend
from search.backends.base import SearchUnavailable
from search.service import can_see_staff_stories

# The story page loads the ids through the visibility rule, which drops stories whose queued update
# the index has not seen yet; asking for a few more keeps the list full.
EXTRA_CANDIDATES = 3


def related_stories(story, user, limit: int = 3) -> list[int] | None:
    """Ids of the stories most like `story`, best first, as the index holds them; None while it is down.

    The engine reads `story` from the index itself (nothing is rebuilt per page view) and leaves
    out staff-only stories for readers who may not see them.
    """
    try:
        return get_backend().related(
            story.pk, include_staff=can_see_staff_stories(user), limit=limit + EXTRA_CANDIDATES
        )
    except SearchUnavailable:
        return None
