"""Related stories for a story page, provided by whichever app can rank them.

`stories` must not import `search` (search depends on stories, never the reverse), yet a story
page shows the stories most like it. The search app registers its ranking here when it starts;
without one (or when it fails) stories that share a theme stand in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from stories.models import StoryPage

logger = logging.getLogger(__name__)

RelatedProvider = Callable[..., list]
_provider: RelatedProvider | None = None


def provide_related_stories(provider: RelatedProvider | None) -> None:
    """Register `provider(story, user, limit=…)`, returning stories like `story` that `user` may read."""
    global _provider
    _provider = provider


def stories_sharing_a_theme(story, user, limit: int = 3) -> list:
    """The fallback ranking: the newest stories this reader may see that share a theme with `story`."""
    return list(
        StoryPage.objects.visible_to(user)
        .filter(themes__in=story.themes.all())
        .exclude(pk=story.pk)
        .distinct()
        .order_by("-first_published_at")[:limit]
    )


def related_stories(story, user, limit: int = 3) -> list:
    """Stories like `story` for this reader, from the registered provider, else by shared theme."""
    if _provider is None:
        return stories_sharing_a_theme(story, user, limit)
    return _provider(story, user, limit=limit)
