"""What Storybank promises about uploads: limits hold on what is sent and what is decoded, not on what a file claims.

- Every story counts against the hourly limit when it is started: a clip at upload, once.
- One person has at most MAX_QUEUED_CLIPS_PER_PERSON clips waiting for transcription.
- A clip whose timestamps understate its length fails when the decoded audio passes MAX_CLIP_SECONDS.
- A body larger than its route accepts is refused (413) from its Content-Length, before it is read.
- A video's poster frame is never made from pictures larger than MAX_IMAGE_PIXELS.
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from django.conf import settings as django_settings
from django.test import Client

from capture.media_probe import AudioTooLong, PosterSkipped, decode_audio, extract_poster_frame, probe_clip
from capture.models import ClipSubmission, SubmissionState
from capture.tasks import process_submission
from stories.models import Clip, StoryPage
from tests.capture.fixtures.speech import as_upload, ffmpeg, speak, video_with_speech
from tests.capture.form_data import story_data
from tests.factories import StoryPageFactory, UserFactory, make_editor

REPOSITORY = Path(__file__).resolve().parents[2]


# Helpers: real requests, real files --------------------------------------------------------------


def post_clip(client, path: Path, *, json_answer: bool = False):
    headers = {"Accept": "application/json"} if json_answer else None
    return client.post("/share/voice/", {"mode": "free", "clip": as_upload(path)}, headers=headers)


def crafted_matroska(path: Path, *, decoded_seconds: int, claimed_seconds: float, rate: int = 8000) -> Path:
    """PCM audio in Matroska whose packet timestamps are squeezed: a probe reads `claimed_seconds`."""
    squeeze = decoded_seconds / claimed_seconds
    frame_size = 1024
    time = np.arange(decoded_seconds * rate)
    pcm = (np.sin(2 * np.pi * 440 * time / rate) * 8000).astype(np.int16).reshape(1, -1)
    with av.open(str(path), mode="w", format="matroska") as container:
        stream = container.add_stream("pcm_s16le", rate=rate)
        stream.layout = "mono"
        for offset in range(0, pcm.shape[1], frame_size):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(pcm[:, offset : offset + frame_size]), format="s16", layout="mono"
            )
            frame.sample_rate = rate
            frame.pts = offset
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                packet.pts = packet.dts = int(offset / squeeze)
                packet.duration = max(int(frame_size / squeeze), 1)
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def video_with_huge_pictures(folder: Path, *, side: int = 8192) -> Path:
    """A small file (a grey picture compresses to almost nothing) whose frames are side × side pixels."""
    out = folder / "huge.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", f"color=c=gray:size={side}x{side}:rate=1",
        "-f", "lavfi", "-i", "sine=frequency=300:duration=2",
        "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
        str(out),
    )  # fmt: skip
    return out


class CountingBody(io.BytesIO):
    """A request body that remembers how much of it the server read."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size: int | None = -1) -> bytes:
        line = super().readline(size)
        self.bytes_read += len(line)
        return line


def multipart_body(field: str, size: int) -> tuple[bytes, str]:
    boundary = "storybankboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="big.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + b"\0" * size
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def send_body(user, path: str, field: str, size: int, headers: dict | None = None):
    """POST a real multipart body of about `size` bytes through the full middleware stack, CSRF enforced."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies["csrftoken"] = "a" * 32  # a well-formed cookie: the CSRF check goes on to read the body
    data, content_type = multipart_body(field, size)
    body = CountingBody(data)
    response = client.generic(
        "POST",
        path,
        headers=headers,
        CONTENT_TYPE=content_type,
        CONTENT_LENGTH=str(len(data)),
        **{"wsgi.input": body},
    )
    return response, body


@pytest.fixture
def teller(client, editorial_review):
    user = UserFactory(username="ula")
    client.force_login(user)
    return user


@pytest.fixture
def spoken(tmp_path) -> Path:
    return speak(tmp_path, "A short story about tea.")


# Quotas -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_clip_uploads_count_against_the_hourly_story_limit_at_upload(client, teller, spoken, settings):
    settings.STORY_RATE_LIMIT_PER_HOUR = 2
    settings.MAX_QUEUED_CLIPS_PER_PERSON = 10
    assert [post_clip(client, spoken).status_code for _ in range(2)] == [303, 303]
    refused = post_clip(client, spoken)
    assert refused.status_code == 429
    assert "You have shared 2 stories in the last hour" in refused.content.decode()
    answer = post_clip(client, spoken, json_answer=True)
    assert answer.status_code == 429 and "2 stories in the last hour" in answer.json()["error"]
    assert ClipSubmission.objects.count() == 2 and Clip.objects.count() == 2


@pytest.mark.django_db
def test_clips_sent_count_against_the_share_form_too(client, teller, spoken, settings):
    settings.STORY_RATE_LIMIT_PER_HOUR = 2
    for _ in range(2):
        post_clip(client, spoken)
    response = client.post("/share/", story_data(title="A third story this hour"))
    assert response.status_code == 429
    assert not StoryPage.objects.filter(title="A third story this hour").exists()


@pytest.mark.django_db
def test_a_clip_that_became_a_story_counts_once(client, teller, spoken, settings):
    settings.STORY_RATE_LIMIT_PER_HOUR = 2
    story = StoryPageFactory(title="Told by clip", publish=False)
    StoryPage.objects.filter(pk=story.pk).update(owner=teller)
    ClipSubmission.objects.create(submitter=teller, state=SubmissionState.DRAFTED, story=story)
    assert post_clip(client, spoken).status_code == 303
    assert post_clip(client, spoken).status_code == 429


@pytest.mark.django_db
def test_a_person_may_have_only_a_few_clips_waiting_for_transcription(client, teller, spoken, settings):
    settings.MAX_QUEUED_CLIPS_PER_PERSON = 2
    assert [post_clip(client, spoken).status_code for _ in range(2)] == [303, 303]
    refused = post_clip(client, spoken)
    assert refused.status_code == 429
    assert "2 of your clips are still waiting to be transcribed" in refused.content.decode()
    answer = post_clip(client, spoken, json_answer=True)
    assert answer.status_code == 429 and "waiting to be transcribed" in answer.json()["error"]
    assert ClipSubmission.objects.count() == 2
    ClipSubmission.objects.filter(pk=ClipSubmission.objects.first().pk).update(state=SubmissionState.DRAFTED)
    assert post_clip(client, spoken).status_code == 303


@pytest.mark.django_db
def test_retrying_a_failed_clip_is_refused_while_the_queue_is_full(client, teller, spoken, settings):
    settings.MAX_QUEUED_CLIPS_PER_PERSON = 1
    post_clip(client, spoken)
    failed = ClipSubmission.objects.create(submitter=teller, state=SubmissionState.FAILED, error="x")
    response = client.post(f"/share/{failed.pk}/retry/")
    assert response.status_code == 429
    assert "still waiting to be transcribed" in response.content.decode()
    failed.refresh_from_db()
    assert failed.state == SubmissionState.FAILED


# Length on what is decoded ---------------------------------------------------------------------


def test_decoding_stops_once_the_audio_passes_the_limit_whatever_the_timestamps_say(tmp_path, settings):
    settings.MAX_CLIP_SECONDS = 10
    crafted = crafted_matroska(tmp_path / "squeezed.mkv", decoded_seconds=60, claimed_seconds=5)
    assert probe_clip(crafted).duration < 10  # the timestamps lie…
    with pytest.raises(AudioTooLong, match="longer than its file claims"):
        decode_audio(crafted)  # …and decoding does not believe them


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_clip_that_decodes_past_the_limit_fails_with_the_reason_and_is_kept(tmp_path, settings):
    settings.MAX_CLIP_SECONDS = 10
    user = UserFactory(username="vic")
    client = Client()
    client.force_login(user)
    crafted = crafted_matroska(tmp_path / "squeezed.mkv", decoded_seconds=60, claimed_seconds=5)
    assert post_clip(client, crafted).status_code == 303
    submission = ClipSubmission.objects.get()
    assert process_submission(submission.pk) == SubmissionState.FAILED
    submission.refresh_from_db()
    assert submission.state == SubmissionState.FAILED and submission.story is None
    page = client.get(f"/share/{submission.pk}/").content.decode()
    assert "longer than its file claims" in page and "10 s" in page
    assert "longer than its file claims" in client.get(f"/share/{submission.pk}/status/").json()["error"]
    clip = submission.parts.get().clip
    assert Path(clip.file.path).read_bytes() == crafted.read_bytes()


# Content-Length before the body ----------------------------------------------------------------


@pytest.mark.django_db
def test_oversized_clip_post_answers_413_before_its_body_is_read(settings):
    settings.MAX_UPLOAD_MB = 1
    response, body = send_body(UserFactory(), "/share/voice/", "clip", 6 * 1024 * 1024)
    assert response.status_code == 413
    assert "Clips may be at most 1 MB each" in response.content.decode()
    assert body.bytes_read == 0
    assert not ClipSubmission.objects.exists()


@pytest.mark.django_db
def test_oversized_clip_post_from_the_recorder_gets_a_json_reason(settings):
    settings.MAX_UPLOAD_MB = 1
    response, body = send_body(
        UserFactory(), "/share/voice/", "clip", 6 * 1024 * 1024, headers={"Accept": "application/json"}
    )
    assert response.status_code == 413 and "at most 1 MB" in response.json()["error"]
    assert body.bytes_read == 0


@pytest.mark.django_db
def test_oversized_picture_on_the_share_form_answers_413_before_its_body_is_read(settings):
    settings.MAX_IMAGE_MB = 1
    response, body = send_body(UserFactory(), "/share/", "image", 4 * 1024 * 1024)
    assert response.status_code == 413 and "Pictures may be at most 1 MB" in response.content.decode()
    assert body.bytes_read == 0


@pytest.mark.django_db
def test_oversized_image_upload_in_the_admin_answers_413_before_its_body_is_read(settings):
    settings.MAX_IMAGE_MB = 1
    response, body = send_body(make_editor(), "/admin/images/multiple/add/", "files[]", 4 * 1024 * 1024)
    assert response.status_code == 413 and "Pictures may be at most 1 MB" in response.content.decode()
    assert body.bytes_read == 0


@pytest.mark.django_db
def test_a_large_body_to_a_route_that_takes_no_files_answers_413_unread():
    size = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024 * 1024
    response, body = send_body(UserFactory(), "/accounts/password_change/", "file", size)
    assert response.status_code == 413 and "accepts no files this large" in response.content.decode()
    assert body.bytes_read == 0


@pytest.mark.django_db
def test_a_malformed_content_length_is_refused_with_a_reason(client):
    response = client.generic("POST", "/share/voice/", CONTENT_LENGTH="١٠")
    assert response.status_code == 400 and "Content-Length" in response.content.decode()


# Poster frames ---------------------------------------------------------------------------------


def test_poster_frame_is_refused_for_pictures_over_the_pixel_limit(tmp_path, settings):
    settings.MAX_IMAGE_PIXELS = 50_000  # the test card is 320 × 240 = 76,800 pixels
    video = video_with_speech(tmp_path, "Hello there.")
    assert probe_clip(video).has_video  # the clip itself is still accepted
    with pytest.raises(PosterSkipped, match="320 × 240 pixels"):
        extract_poster_frame(video)


def test_a_tiny_video_declaring_huge_pictures_is_probed_without_allocating_them(tmp_path):
    """8192 × 8192 pictures (67 megapixels, over the default 40): FFmpeg would allocate ~100 MB a frame."""
    video = video_with_huge_pictures(tmp_path)
    script = f"""
import json, os, resource, django
os.environ["DJANGO_SETTINGS_MODULE"] = "storybank.settings"
django.setup()
from capture.media_probe import PosterSkipped, extract_poster_frame, probe_clip
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
probe = probe_clip({str(video)!r})
try:
    extract_poster_frame({str(video)!r})
    skipped = ""
except PosterSkipped as reason:
    skipped = str(reason)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({{"has_video": probe.has_video, "skipped": skipped, "grown_kb": grown}}))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPOSITORY, capture_output=True, text=True, check=True
    )
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["has_video"]
    assert "8192 × 8192 pixels" in outcome["skipped"]
    assert outcome["grown_kb"] < 64 * 1024, outcome


@pytest.mark.whisper
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_video_over_the_pixel_limit_becomes_a_draft_without_a_poster(tmp_path, settings, caplog):
    settings.MAX_IMAGE_PIXELS = 50_000
    user = UserFactory(username="wes")
    client = Client()
    client.force_login(user)
    assert post_clip(client, video_with_speech(tmp_path)).status_code == 303
    with caplog.at_level(logging.WARNING, logger="capture.tasks"):
        assert process_submission(ClipSubmission.objects.get().pk) == SubmissionState.DRAFTED
    story = StoryPage.objects.get()
    assert story.cover_image is None and story.clip.poster_id is None
    assert "more than the 50,000 pixels allowed" in caplog.text
