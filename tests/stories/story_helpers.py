"""Test data for the public story tests: publication dates, clips and transcripts.

The fixtures these tests share (people, themes, a signed-in client) are in tests/stories/conftest.py.
"""

from __future__ import annotations

import datetime as dt

from django.core.files.base import ContentFile
from django.utils import timezone

from stories.models import Clip, StoryPage, TranscriptSegment


def set_published(story: StoryPage, when: dt.datetime) -> StoryPage:
    """Pin a story's publication time so library order (newest first) is predictable."""
    StoryPage.objects.filter(pk=story.pk).update(first_published_at=when, last_published_at=when)
    story.refresh_from_db()
    return story


def days_ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def add_transcript(story: StoryPage, lines: list[tuple[float, float, str]]) -> None:
    for order, (start, end, text) in enumerate(lines):
        TranscriptSegment.objects.create(story=story, start=start, end=end, text=text, sort_order=order)


def attach_clip(story: StoryPage, *, kind: str = Clip.MediaKind.AUDIO, name: str = "clip.webm") -> Clip:
    clip = Clip.objects.create(media_kind=kind, content_type="audio/webm", duration=120.0, original_name=name)
    clip.file.save(name, ContentFile(b"not really media; the page only links to it"), save=True)
    StoryPage.objects.filter(pk=story.pk).update(clip=clip)
    story.refresh_from_db()
    return clip
