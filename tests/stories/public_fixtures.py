"""Fixtures and helpers for the public story tests: people, themes, outcomes, clips and transcripts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from stories.models import Clip, StoryPage, TranscriptSegment
from tests.factories import OutcomeTypeFactory, PersonFactory, ThemeFactory, UserFactory


@pytest.fixture
def staff_user(db):
    return UserFactory(username="colleague")


@pytest.fixture
def signed_in_client(staff_user):
    """A second browser, signed in; the plain `client` fixture stays anonymous."""
    browser = Client()
    browser.force_login(staff_user)
    return browser


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


@pytest.fixture
def pricing(db):
    return ThemeFactory(name="Pricing", description="How we set and explain prices.")


@pytest.fixture
def onboarding(db):
    return ThemeFactory(name="Onboarding")


@pytest.fixture
def time_saved(db):
    return OutcomeTypeFactory(name="Time saved")


@pytest.fixture
def ada(db):
    return PersonFactory(name="Ada Lovelace", role="Analyst", team="Finance")


@pytest.fixture
def grace(db):
    return PersonFactory(name="Grace Hopper", role="Engineer", team="Engineering")
