"""The search service: the one entry point pages, API and commands use to reach a backend.

(Placeholder implementations; the search work replaces them with the indexed backends.)
"""

from __future__ import annotations


def backend_health() -> dict:
    return {"ok": True, "backend": "embedded"}


def related_stories(story, user, limit: int = 3) -> list:
    """Stories most like `story` that `user` may read."""
    from stories.models import StoryPage

    return list(
        StoryPage.objects.visible_to(user)
        .filter(themes__in=story.themes.all())
        .exclude(pk=story.pk)
        .distinct()
        .order_by("-first_published_at")[:limit]
    )
