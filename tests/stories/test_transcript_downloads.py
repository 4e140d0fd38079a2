"""A story's transcript downloads as .txt, .vtt and .srt with correct timestamps; ?t= start times parse."""

from __future__ import annotations

import pytest

from stories.transcripts import parse_start_time
from tests.factories import StoryPageFactory
from tests.stories.story_helpers import add_transcript

pytestmark = pytest.mark.django_db


@pytest.fixture
def story():
    story = StoryPageFactory(title="Talking it through")
    add_transcript(
        story,
        [
            (0.0, 2.5, "It started with a question."),
            (83.25, 86.0, "Then it  clicked --> for everyone."),
            (3725.5, 3730.004, "An hour later."),
        ],
    )
    return story


def download(client, story, extension, query=""):
    return client.get(f"/stories/{story.pk}/transcript.{extension}{query}")


def test_vtt_download_is_webvtt_with_hour_timestamps(client, story):
    response = download(client, story, "vtt")
    assert response["Content-Type"] == "text/vtt; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="talking-it-through.vtt"'
    assert response.content.decode() == (
        "WEBVTT\n\n"
        "1\n00:00:00.000 --> 00:00:02.500\nIt started with a question.\n\n"
        "2\n00:01:23.250 --> 00:01:26.000\nThen it clicked → for everyone.\n\n"
        "3\n01:02:05.500 --> 01:02:10.004\nAn hour later.\n"
    )


def test_srt_download_uses_commas_and_numbers_cues(client, story):
    response = download(client, story, "srt")
    assert response["Content-Type"] == "application/x-subrip; charset=utf-8"
    assert response.content.decode() == (
        "1\n00:00:00,000 --> 00:00:02,500\nIt started with a question.\n\n"
        "2\n00:01:23,250 --> 00:01:26,000\nThen it clicked → for everyone.\n\n"
        "3\n01:02:05,500 --> 01:02:10,004\nAn hour later.\n"
    )


def test_txt_download_is_readable_with_clock_times(client, story):
    response = download(client, story, "txt")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == (
        "Talking it through\n\n"
        "[0:00] It started with a question.\n"
        "[1:23] Then it clicked → for everyone.\n"
        "[1:02:05] An hour later.\n"
    )


def test_captions_for_the_video_track_are_served_inline(client, story):
    response = download(client, story, "vtt", "?inline=1")
    assert response.status_code == 200
    assert "Content-Disposition" not in response
    assert response.content.decode().startswith("WEBVTT")


def test_story_without_transcript_has_nothing_to_download(client):
    story = StoryPageFactory(title="Written only")
    assert download(client, story, "vtt").status_code == 404


def test_unknown_transcript_format_is_not_found(client, story):
    assert download(client, story, "docx").status_code == 404


def test_segments_come_out_in_their_editorial_order(client):
    story = StoryPageFactory(title="Reordered")
    add_transcript(story, [(5.0, 6.0, "Second in time, first in order.")])
    add_transcript(story, [])  # nothing
    from stories.models import TranscriptSegment

    TranscriptSegment.objects.create(story=story, start=1.0, end=2.0, text="Later in order.", sort_order=5)
    lines = download(client, story, "txt").content.decode().splitlines()
    assert lines[2:] == ["[0:05] Second in time, first in order.", "[0:01] Later in order."]


@pytest.mark.parametrize(
    ("given", "seconds"),
    [
        ("83", 83.0),
        ("83.5", 83.5),
        ("1:23", 83.0),
        ("1:02:03", 3723.0),
        ("1m23s", 83.0),
        ("2m", 120.0),
        ("90s", 90.0),
    ],
)
def test_start_times_in_readable_forms(given, seconds):
    assert parse_start_time(given) == seconds


@pytest.mark.parametrize("given", ["", None, "soon", "-5", "nan", "inf", "1x", "5m3", "99999999"])
def test_unusable_start_times_are_ignored(given):
    assert parse_start_time(given) is None
