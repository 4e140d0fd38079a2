"""The background job that turns a clip submission into a draft story.

At least once, exactly one draft: the job claims its submission (a row lock and a state check),
beats a heartbeat while it transcribes, keeps each finished clip's transcript, and creates the
draft in one transaction that first checks no draft exists. A run whose worker died is re-queued
by capture.recovery and simply starts again; a duplicate run finds nothing to do.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django_tasks import task
from wagtail.models import Workflow

from capture import media_probe
from capture.drafting import (
    create_draft_story,
    heard_text,
    save_poster_image,
    split_free_telling,
    tellers_words,
)
from capture.models import ClipPart, ClipSubmission, Prompt, SubmissionMode, SubmissionState
from capture.segments import Segment
from capture.signals import story_shared
from capture.transcribe import transcribe_clip, vocabulary_for_user
from stories.models import Clip, Source, StoryPage
from stories.workflow import submit_for_review

logger = logging.getLogger(__name__)

GAP_BETWEEN_PARTS_SECONDS = 0.6


class ClaimLost(Exception):
    """Another run took this submission over (this one was presumed dead); stop quietly."""


def enqueue_transcription(submission: ClipSubmission) -> None:
    """Queue the job once the current transaction commits, so the worker always finds the row."""
    submission_id = submission.pk

    def enqueue() -> None:
        result = transcribe_submission.enqueue(submission_id)
        ClipSubmission.objects.filter(pk=submission_id).update(task_id=str(result.id))

    transaction.on_commit(enqueue)


@task()
def transcribe_submission(submission_id: int) -> str:
    """Transcribe a submission's clips and make its draft story; returns the state it ended in."""
    return process_submission(submission_id)


def process_submission(submission_id: int) -> str:
    claim = claim_submission(submission_id)
    if claim is None:
        state = ClipSubmission.objects.filter(pk=submission_id).values_list("state", flat=True).first()
        logger.info("Submission %s needs no work (state %s)", submission_id, state)
        return state or "missing"
    try:
        with Heartbeat(submission_id, claim) as heartbeat:
            transcribe_parts(submission_id, claim, heartbeat)
        return finish_submission(submission_id, claim)
    except ClaimLost:
        logger.warning("Submission %s was taken over by another run", submission_id)
        return "superseded"
    except media_probe.ClipRefused as refusal:
        # A clip that fails a limit while it is decoded: a reason for the person, not a crash.
        logger.warning("Submission %s refused while transcribing: %s", submission_id, refusal.message)
        mark_failed(submission_id, claim, refusal.message)
        return SubmissionState.FAILED
    except Exception as error:
        logger.exception("Transcribing submission %s failed", submission_id)
        mark_failed(submission_id, claim, describe_failure(error))
        raise


def claim_submission(submission_id: int) -> str | None:
    """Take the submission for this run, or None when it is done, failed, or alive in another run."""
    with transaction.atomic():
        submission = ClipSubmission.objects.select_for_update().filter(pk=submission_id).first()
        if submission is None or submission.story_id is not None:
            return None
        if submission.state in (SubmissionState.DRAFTED, SubmissionState.FAILED):
            return None
        if submission.state == SubmissionState.TRANSCRIBING and not submission.heartbeat_is_stale():
            return None
        claim = secrets.token_hex(8)
        submission.state = SubmissionState.TRANSCRIBING
        submission.claim = claim
        submission.heartbeat = submission.started_at = timezone.now()
        submission.attempts += 1
        submission.error = ""
        submission.save(
            update_fields=["state", "claim", "heartbeat", "started_at", "attempts", "error", "updated_at"]
        )
    return claim


class Heartbeat:
    """Beats the submission's heartbeat and writes its progress from a side thread while Whisper runs."""

    def __init__(self, submission_id: int, claim: str):
        self.submission_id = submission_id
        self.claim = claim
        self.progress = 0.0
        self.lost = False
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{submission_id}", daemon=True)
        self.interval = max(min(settings.WORKER_HEARTBEAT_SECONDS, 2), 0.5)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)

    def beat(self) -> bool:
        updated = ClipSubmission.objects.filter(pk=self.submission_id, claim=self.claim).update(
            heartbeat=timezone.now(), progress=round(min(self.progress, 99.0), 1)
        )
        if updated == 0:
            current = (
                ClipSubmission.objects.filter(pk=self.submission_id).values_list("claim", flat=True).first()
            )
            self.lost = current is None or current != self.claim
        return not self.lost

    def _run(self) -> None:
        try:
            while not self._stopped.wait(self.interval):
                try:
                    self.beat()
                except Exception:
                    logger.exception("Heartbeat for submission %s failed", self.submission_id)
                    close_old_connections()
        finally:
            connection.close()

    def check(self) -> None:
        if self.lost:
            raise ClaimLost(self.submission_id)


def transcribe_parts(submission_id: int, claim: str, heartbeat: Heartbeat) -> None:
    """Transcribe each clip not yet transcribed, keeping its result as soon as it is done.

    The clips of one telling share MAX_CLIP_SECONDS, counted on the decoded audio: each clip is
    decoded with what the ones before it left, and its measured length replaces the probe's.
    """
    parts = list(ClipPart.objects.filter(submission_id=submission_id).select_related("clip"))
    total = sum(part.clip.duration or 0 for part in parts) or 1.0
    done = sum(part.clip.duration or 0 for part in parts if part.transcribed)
    heartbeat.progress = done / total * 100
    submission = ClipSubmission.objects.select_related("submitter").get(pk=submission_id)
    vocabulary = vocabulary_for_user(submission.submitter)
    for part in parts:
        if part.transcribed:
            continue
        audio = _decode_within_limit(part, remaining=settings.MAX_CLIP_SECONDS - done)
        part_duration = audio.shape[-1] / media_probe.WHISPER_SAMPLE_RATE

        def on_progress(seconds: float, finished_before: float = done, length: float = part_duration) -> None:
            heartbeat.progress = (finished_before + min(seconds, length)) / total * 100
            heartbeat.check()

        result = transcribe_clip(
            audio, vocabulary=vocabulary, speakers=submission.speaker_names, on_progress=on_progress
        )
        del audio
        with transaction.atomic():
            if not ClipSubmission.objects.filter(pk=submission_id, claim=claim).exists():
                raise ClaimLost(submission_id)
            part.transcript = result.text
            part.segments = [segment.as_json() for segment in result.segments]
            part.transcribed = True
            part.save(update_fields=["transcript", "segments", "transcribed"])
            Clip.objects.filter(pk=part.clip_id).update(
                language=result.language, duration=round(part_duration, 3)
            )
        done += part_duration
        heartbeat.progress = done / total * 100


def _decode_within_limit(part: ClipPart, *, remaining: float) -> np.ndarray:
    """The part's audio (both channels of a stereo clip), or ClipRefused naming the guided prompt
    when decoding passes the limit."""
    try:
        return media_probe.decode_audio(
            part.clip.file.path, max_seconds=max(remaining, 0.0), keep_channels=True
        )
    except media_probe.AudioTooLong as refusal:
        if part.prompt != Prompt.FREE:
            refusal.message = f"{part.get_prompt_display()}: {refusal.message}"
        raise


def finish_submission(submission_id: int, claim: str) -> str:
    """Create the one draft story for the submission and send it for review."""
    submission = ClipSubmission.objects.select_related("submitter").get(pk=submission_id)
    parts = list(submission.parts.select_related("clip"))
    poster_jpeg = _poster_for(parts)
    with transaction.atomic():
        submission = ClipSubmission.objects.select_for_update().get(pk=submission_id)
        if submission.claim != claim:
            raise ClaimLost(submission_id)
        if submission.story_id is None:
            story = _existing_draft_for(parts) or _make_draft(submission, parts, poster_jpeg)
            submission.story = story
            if submission.origin:
                # As the share form does: whoever made the recorder's link hears of the draft.
                transaction.on_commit(
                    lambda: story_shared.send(
                        StoryPage, story=story, user=submission.submitter, origin=submission.origin
                    )
                )
        submission.state = SubmissionState.DRAFTED
        submission.progress = 100
        submission.transcript = "\n\n".join(
            heard_text(map(Segment.from_json, part.segments), part.transcript)
            for part in parts
            if part.transcript
        )
        submission.language = next((part.clip.language for part in parts if part.clip.language), "")
        submission.heartbeat = None
        submission.finished_at = timezone.now()
        submission.save()
    logger.info("Submission %s drafted as story %s", submission_id, submission.story_id)
    return submission.state


def _existing_draft_for(parts: list[ClipPart]) -> StoryPage | None:
    """A story already made from these clips (a run that died after committing): reuse it."""
    return StoryPage.objects.filter(clip__submission_parts__in=parts).first()


def _poster_for(parts: list[ClipPart]) -> bytes | None:
    """The first video clip's poster frame; a frame too large or unreadable means no poster, not a failure."""
    for part in parts:
        if part.clip.is_video:
            try:
                return media_probe.extract_poster_frame(part.clip.file.path)
            except media_probe.PosterSkipped as reason:
                logger.warning("No poster frame from clip %s: %s", part.clip_id, reason)
            except Exception:
                logger.exception("No poster frame from clip %s", part.clip_id)
    return None


def _make_draft(submission: ClipSubmission, parts: list[ClipPart], poster_jpeg: bytes | None) -> StoryPage:
    user = submission.submitter
    if submission.mode == SubmissionMode.GUIDED:
        story_clip, segments = _joined_clip(parts)
        fields = {
            part.prompt: tellers_words(map(Segment.from_json, part.segments), among=segments)
            or part.transcript
            for part in parts
        }
    else:
        story_clip = parts[0].clip
        segments = [Segment.from_json(segment) for segment in parts[0].segments]
        telling = tellers_words(segments) or parts[0].transcript
        fields = dict(zip(("context", "aha", "outcome"), split_free_telling(telling), strict=True))
    transcript = " ".join(part.transcript for part in parts if part.transcript)
    source = Source.VIDEO if any(part.clip.is_video for part in parts) else Source.VOICE
    cover = None
    if poster_jpeg:
        cover = save_poster_image(
            poster_jpeg, title=f"Poster frame: clip submission {submission.pk}", user=user
        )
        for part in parts:
            if part.clip.is_video and part.clip.poster_id is None:
                Clip.objects.filter(pk=part.clip_id).update(poster=cover)
        if story_clip.is_video:
            story_clip.poster = cover
            story_clip.save(update_fields=["poster"])
    story = create_draft_story(
        user=user,
        clip=story_clip,
        segments=segments,
        fields=fields,
        transcript=transcript,
        source=source,
        consent=submission.consent,
        visibility=submission.visibility,
        cover_image=cover,
    )
    try:
        submit_for_review(story, user)
    except Workflow.DoesNotExist:
        logger.error("The Editorial review workflow is missing; story %s stays a draft", story.pk)
    return story


def _joined_clip(parts: list[ClipPart]) -> tuple[Clip, list[Segment]]:
    """One audio clip of the guided answers in order, with the segments moved onto its timeline."""
    gap = np.zeros(int(GAP_BETWEEN_PARTS_SECONDS * media_probe.WHISPER_SAMPLE_RATE), dtype=np.float32)
    pieces: list[np.ndarray] = []
    segments: list[Segment] = []
    offset = 0.0
    remaining = float(settings.MAX_CLIP_SECONDS)
    for index, part in enumerate(parts):
        audio = media_probe.decode_audio(part.clip.file.path, max_seconds=max(remaining, 0.0))
        remaining -= len(audio) / media_probe.WHISPER_SAMPLE_RATE
        if index:
            pieces.append(gap)
            offset += GAP_BETWEEN_PARTS_SECONDS
        pieces.append(audio)
        segments.extend(Segment.from_json(segment).shifted(offset) for segment in part.segments)
        offset += len(audio) / media_probe.WHISPER_SAMPLE_RATE
    name = f"clips/{secrets.token_urlsafe(18)}.m4a"
    path = Path(settings.MEDIA_ROOT) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    media_probe.write_speech_audio(np.concatenate(pieces), path)
    probe = media_probe.probe_clip(path, max_seconds=float("inf"), max_bytes=2**62)
    clip = Clip(
        media_kind=Clip.MediaKind.AUDIO,
        content_type=probe.content_type,
        duration=probe.duration,
        language=next((part.clip.language for part in parts if part.clip.language), ""),
        checksum=_sha256(path),
        original_name="guided telling (joined)",
        size=path.stat().st_size,
    )
    clip.file.name = name
    clip.save()
    return clip, segments


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def describe_failure(error: Exception) -> str:
    if isinstance(error, media_probe.ClipRefused):
        return error.message
    if isinstance(error, FileNotFoundError):
        return "The stored clip file is missing, so it cannot be transcribed."
    return f"Transcription stopped with an error ({type(error).__name__}: {str(error)[:300]})."


def mark_failed(submission_id: int, claim: str | None, message: str) -> None:
    """Record a failure the person can read; the clip stays, and a retry starts over from it."""
    queryset = ClipSubmission.objects.filter(pk=submission_id, story__isnull=True)
    if claim is not None:
        queryset = queryset.filter(claim=claim)
    queryset.update(
        state=SubmissionState.FAILED,
        error=message,
        heartbeat=None,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def retry_submission(submission: ClipSubmission) -> bool:
    """Queue a failed submission again; False when it was not failed (nothing to retry)."""
    with transaction.atomic():
        locked = ClipSubmission.objects.select_for_update().get(pk=submission.pk)
        if locked.state != SubmissionState.FAILED:
            return False
        locked.state = SubmissionState.QUEUED
        locked.error = ""
        locked.progress = 0
        locked.claim = ""
        locked.attempts = 0
        locked.heartbeat = None
        locked.finished_at = None
        locked.save()
        enqueue_transcription(locked)
    return True
