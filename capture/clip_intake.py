"""Accepting clips: store the upload under a random name, check its content, record it, queue it.

The file is written to media/clips/ before anything else looks at it, and a submission is
committed before its transcription is queued, so an accepted clip is never lost to a crash.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from capture.media_probe import ClipRefused, ProbeResult, probe_clip
from capture.models import (
    GUIDED_PROMPTS,
    MAX_ORIGIN_LENGTH,
    ClipPart,
    ClipSubmission,
    Prompt,
    SubmissionMode,
    tidy_speaker_names,
)
from capture.rate_limit import clip_refusal_reason
from capture.tasks import enqueue_transcription
from stories.models import Clip, Visibility

logger = logging.getLogger(__name__)

CLIP_FOLDER = "clips"
CHUNK_BYTES = 1024 * 1024


@dataclass
class StoredUpload:
    relative_name: str
    path: Path
    checksum: str
    size: int
    original_name: str
    probe: ProbeResult


def max_clip_bytes_per_post() -> int:
    """The most clip bytes one post may carry: a guided telling sends one clip per prompt, each up to MAX_UPLOAD_MB."""
    return settings.MAX_UPLOAD_MB * 1024 * 1024 * len(GUIDED_PROMPTS)


def check_clip_quota(user) -> None:
    """Raise ClipRefused (429) when this person may not send another clip right now."""
    reason = clip_refusal_reason(user)
    if reason is not None:
        raise ClipRefused(reason, 429)


def upload_field_name(prompt: str) -> str:
    """The form field carrying a prompt's clip: `clip` for a free telling, `clip_<prompt>` for guided."""
    return "clip" if prompt == Prompt.FREE else f"clip_{prompt}"


def store_and_probe(uploaded: UploadedFile) -> StoredUpload:
    """Write an upload to media/clips/ (hashing as it streams) and check it; refused files are removed."""
    max_bytes = settings.MAX_UPLOAD_MB * 1024 * 1024
    if uploaded.size is not None and uploaded.size > max_bytes:
        raise ClipRefused(
            f"The file is {uploaded.size / 1_048_576:.1f} MB; clips may be at most {settings.MAX_UPLOAD_MB} MB.",
            413,
        )
    folder = Path(settings.MEDIA_ROOT) / CLIP_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(18)
    partial = folder / f"{token}.part"
    digest = hashlib.sha256()
    size = 0
    try:
        with partial.open("xb") as handle:
            for chunk in uploaded.chunks(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise ClipRefused(f"The file is larger than {settings.MAX_UPLOAD_MB} MB.", 413)
                digest.update(chunk)
                handle.write(chunk)
        os.chmod(partial, settings.FILE_UPLOAD_PERMISSIONS or 0o640)
        probe = probe_clip(partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    final = folder / f"{token}.{probe.extension}"
    os.replace(partial, final)
    return StoredUpload(
        relative_name=f"{CLIP_FOLDER}/{final.name}",
        path=final,
        checksum=digest.hexdigest(),
        size=size,
        original_name=(uploaded.name or "")[:255],
        probe=probe,
    )


def record_clip(stored: StoredUpload) -> Clip:
    clip = Clip(
        media_kind=stored.probe.media_kind,
        content_type=stored.probe.content_type,
        duration=stored.probe.duration,
        checksum=stored.checksum,
        original_name=stored.original_name,
        size=stored.size,
    )
    clip.file.name = stored.relative_name
    clip.save()
    return clip


def create_submission(
    user,
    *,
    mode: str,
    uploads: Mapping[str, UploadedFile],
    consent: bool = False,
    visibility: str = Visibility.STAFF,
    origin: str = "",
    speaker_names: Sequence[str] = (),
) -> ClipSubmission:
    """Store and check every clip, then record the submission and queue its transcription once committed.

    `uploads` maps a prompt (free, or context/aha/outcome for guided) to its uploaded file;
    `speaker_names` names who speaks on the left and right channel of an interview.
    Raises ClipRefused (with the prompt in `field`) when a clip is missing or not acceptable, and
    (429) when the person's hourly or queued-clip limit is reached; the limits are checked again
    with the person's row locked, so two posts at once cannot both slip under them.
    """
    check_clip_quota(user)
    prompts = list(GUIDED_PROMPTS) if mode == SubmissionMode.GUIDED else [Prompt.FREE]
    for prompt in prompts:
        if uploads.get(prompt) is None:
            label = Prompt(prompt).label.lower() if mode == SubmissionMode.GUIDED else "your story"
            refusal = ClipRefused(f"Please record or choose a clip for {label}.", 400)
            refusal.field = upload_field_name(prompt)
            raise refusal
    stored: list[tuple[str, StoredUpload]] = []
    try:
        for prompt in prompts:
            try:
                stored.append((prompt, store_and_probe(uploads[prompt])))
            except ClipRefused as refusal:
                refusal.field = upload_field_name(prompt)
                if mode == SubmissionMode.GUIDED:
                    refusal.message = f"{Prompt(prompt).label}: {refusal.message}"
                raise
        total = sum(item.probe.duration for _prompt, item in stored)
        if total > settings.MAX_CLIP_SECONDS:
            raise ClipRefused(
                f"Together the clips last {total:.0f} s; the limit is {settings.MAX_CLIP_SECONDS} s.", 422
            )
        with transaction.atomic():
            list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk"))
            check_clip_quota(user)
            submission = ClipSubmission.objects.create(
                submitter=user,
                mode=mode,
                consent=consent,
                visibility=visibility if visibility in Visibility.values else Visibility.STAFF,
                origin=origin[:MAX_ORIGIN_LENGTH],
                speaker_names=tidy_speaker_names(speaker_names),
            )
            for position, (prompt, item) in enumerate(stored):
                ClipPart.objects.create(
                    submission=submission, prompt=prompt, position=position, clip=record_clip(item)
                )
            enqueue_transcription(submission)
    except BaseException:
        for _prompt, item in stored:
            item.path.unlink(missing_ok=True)
        raise
    logger.info("Clip submission %s accepted (%s, %d clip(s))", submission.pk, mode, len(stored))
    return submission
