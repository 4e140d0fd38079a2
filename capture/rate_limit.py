"""How much one person may send: stories an hour, and clips waiting to be transcribed at once.

Derived from data we already keep, with no counter table and nothing to reset. A story counts
when it is started: a form story at its first revision, a clip at upload (it becomes a story only
once transcribed, and is not counted again then), so a run of large clips meets the same hourly
limit (settings.STORY_RATE_LIMIT_PER_HOUR) as a run of forms. Clips not yet transcribed are
capped per person too (settings.MAX_QUEUED_CLIPS_PER_PERSON): each holds a file and worker time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Min, OuterRef, Subquery
from django.db.models.functions import Cast
from django.utils import timezone
from wagtail.models import Page, Revision

from capture.models import ClipSubmission
from stories.models import StoryPage

RATE_LIMIT_WINDOW = timedelta(hours=1)


def stories_started_since(user, since: datetime) -> int:
    """Stories the user started at or after `since`: clips sent, plus stories that did not come from a clip."""
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
    written = (
        StoryPage.objects.filter(owner=user, clip_submission__isnull=True)
        .annotate(first_revision_at=Subquery(first_revision_at[:1]))
        .filter(first_revision_at__gte=since)
        .count()
    )
    sent = ClipSubmission.objects.filter(submitter=user, created_at__gte=since).count()
    return written + sent


def story_rate_limit_reached(user) -> bool:
    """True when the user has started the hourly maximum of stories already (by form or by clip)."""
    since = timezone.now() - RATE_LIMIT_WINDOW
    return stories_started_since(user, since) >= settings.STORY_RATE_LIMIT_PER_HOUR


def rate_limit_message(*, by_clip: bool = False) -> str:
    limit = settings.STORY_RATE_LIMIT_PER_HOUR
    kept = "Your recording is still yours to send" if by_clip else "Your text is still here"
    return (
        f"You have shared {limit} stories in the last hour, which is the most we accept in an hour. "
        f"{kept}: please try again a little later."
    )


def queued_clip_count(user) -> int:
    """The user's clip submissions still waiting for, or going through, transcription."""
    return ClipSubmission.objects.filter(submitter=user).unfinished().count()


def queued_clip_limit_reached(user) -> bool:
    return queued_clip_count(user) >= settings.MAX_QUEUED_CLIPS_PER_PERSON


def queued_clip_limit_message() -> str:
    limit = settings.MAX_QUEUED_CLIPS_PER_PERSON
    clips = "clip is" if limit == 1 else "clips are"
    return (
        f"{limit} of your {clips} still waiting to be transcribed, which is as many as we queue for one "
        "person. Please wait until one is ready (see My stories), then send this one."
    )


def clip_refusal_reason(user) -> str | None:
    """Why this person may not send a clip right now, or None when they may."""
    if queued_clip_limit_reached(user):
        return queued_clip_limit_message()
    if story_rate_limit_reached(user):
        return rate_limit_message(by_clip=True)
    return None
