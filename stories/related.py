"""Related stories for a story page, ranked by whichever app can rank them.

`stories` must not import `search` (search depends on stories, never the reverse), yet a story
page shows the stories most like it. The search app registers its ranking here when it starts;
without one (or while it has no answer) stories that share a theme stand in.
"""

from __future__ import annotations

from collections.abc import Callable

from stories.models import StoryPage

# provider(story, user, limit=…) -> ids of stories like `story`, best first; None while it cannot rank.
RelatedProvider = Callable[..., list[int] | None]
_provider: RelatedProvider | None = None


def provide_related_stories(provider: RelatedProvider | None) -> None:
    """Register `provider(story, user, limit=…)`, returning the ids of stories like `story`, best first."""
    global _provider
    _provider = provider


def stories_sharing_a_theme(story, user, limit: int = 3) -> list[int]:
    """The fallback ranking: ids of the newest stories this reader may see that share a theme with `story`."""
    return list(
        StoryPage.objects.visible_to(user)
        .filter(themes__in=story.themes.all())
        .exclude(pk=story.pk)
        .distinct()
        .order_by("-first_published_at")
        .values_list("pk", flat=True)[:limit]
    )


def related_story_ids(story, user, limit: int = 3) -> list[int]:
    """Ids of stories like `story`, best first: the registered ranking's, else those sharing a theme.

    A ranking may offer more than `limit`, and stories this reader may not see: callers load the
    ids through `StoryPage.objects.visible_to(user)` and keep the first `limit`. An empty ranking
    (a story not indexed yet) falls back too.
    """
    ranked = _provider(story, user, limit=limit) if _provider is not None else None
    return list(ranked) if ranked else stories_sharing_a_theme(story, user, limit)
