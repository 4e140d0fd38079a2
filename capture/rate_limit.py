"""How many stories one person may start per hour (settings.STORY_RATE_LIMIT_PER_HOUR).

Derived from data we already keep: the stories a user owns and the time of each one's first
revision. No counter table, nothing to reset, and it counts every way a story comes in.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Min, OuterRef, Subquery
from django.db.models.functions import Cast
from django.utils import timezone
from wagtail.models import Page, Revision

from stories.models import StoryPage

RATE_LIMIT_WINDOW = timedelta(hours=1)


def stories_started_since(user, since) -> int:
    """How many of the user's stories had their first revision at or after `since`."""
    page_type = ContentType.objects.get_for_model(Page)
    first_revision_at = (
        Revision.objects.filter(
            base_content_type=page_type,
            object_id=Cast(OuterRef("pk"), output_field=CharField()),
        )
        .values("object_id")
        .annotate(first=Min("created_at"))
        .values("first")
    )
    return (
        StoryPage.objects.filter(owner=user)
        .annotate(first_revision_at=Subquery(first_revision_at[:1]))
        .filter(first_revision_at__gte=since)
        .count()
    )


def story_rate_limit_reached(user) -> bool:
    """True when the user has started the hourly maximum of stories already."""
    since = timezone.now() - RATE_LIMIT_WINDOW
    return stories_started_since(user, since) >= settings.STORY_RATE_LIMIT_PER_HOUR


def rate_limit_message() -> str:
    limit = settings.STORY_RATE_LIMIT_PER_HOUR
    return (
        f"You have shared {limit} stories in the last hour, which is the most we accept in an hour. "
        "Your text is still here: please try again a little later."
    )
