"""Clip submissions: a recorded or uploaded clip on its way to becoming a draft story.

A submission carries its own progress and heartbeat, because django-tasks-db cannot tell a
running task from one whose worker was killed: recovery reads these fields, not the task row.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from stories.visibility import is_editor

# An `origin` passed through the share form or the recorder (capture.signals.story_shared).
MAX_ORIGIN_LENGTH = 500
# A speaker's name on a two-microphone interview, as given on upload.
MAX_SPEAKER_LENGTH = 80


def tidy_speaker_names(names) -> list[str]:
    """The left and right speakers' names as kept: single spaces, MAX_SPEAKER_LENGTH at most, two at most."""
    return [" ".join(str(name).split())[:MAX_SPEAKER_LENGTH] for name in names][:2]


class SubmissionState(models.TextChoices):
    QUEUED = "queued", "Queued"
    TRANSCRIBING = "transcribing", "Transcribing"
    DRAFTED = "drafted", "Draft ready"
    FAILED = "failed", "Failed"


class SubmissionMode(models.TextChoices):
    GUIDED = "guided", "Guided (three prompts)"
    FREE = "free", "Free (one clip)"


class Prompt(models.TextChoices):
    """What a clip answers; guided clips fill the story field of the same name."""

    FREE = "free", "The whole story"
    CONTEXT = "context", "The situation"
    AHA = "aha", "The aha moment"
    OUTCOME = "outcome", "What changed"


GUIDED_PROMPTS = (Prompt.CONTEXT, Prompt.AHA, Prompt.OUTCOME)


class ClipSubmissionQuerySet(models.QuerySet):
    def visible_to(self, user) -> ClipSubmissionQuerySet:
        """The submitter sees their own; editors (superusers, Editors group) see all."""
        if user is None or not user.is_authenticated:
            return self.none()
        if is_editor(user):
            return self
        return self.filter(submitter=user)

    def unfinished(self) -> ClipSubmissionQuerySet:
        """Queued or being transcribed: still holding a place in the worker's queue."""
        return self.filter(state__in=(SubmissionState.QUEUED, SubmissionState.TRANSCRIBING))


class ClipSubmission(models.Model):
    """One telling by voice or video: its clips, the transcription's progress, and the draft it became."""

    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clip_submissions"
    )
    mode = models.CharField(max_length=10, choices=SubmissionMode.choices, default=SubmissionMode.FREE)
    state = models.CharField(
        max_length=16, choices=SubmissionState.choices, default=SubmissionState.QUEUED, db_index=True
    )
    progress = models.FloatField(default=0, help_text="Percent of the audio transcribed.")
    heartbeat = models.DateTimeField(null=True, blank=True, help_text="Last sign of life while transcribing.")
    claim = models.CharField(max_length=32, blank=True, help_text="Which run of the task owns the work.")
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True, help_text="The latest django-tasks result id.")
    consent = models.BooleanField(default=False)
    visibility = models.CharField(max_length=10, default="staff")
    # Where the link that opened the recorder came from: announced with the draft, untouched.
    origin = models.CharField(max_length=MAX_ORIGIN_LENGTH, blank=True)
    transcript = models.TextField(blank=True)
    language = models.CharField(max_length=16, blank=True)
    speaker_names = models.JSONField(
        default=list, blank=True, help_text="Who speaks on the left and right channel of an interview."
    )
    story = models.OneToOneField(
        "stories.StoryPage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="clip_submission",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True, help_text="When the latest run began.")
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ClipSubmissionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "clip submission"

    def __str__(self) -> str:
        return f"Clip submission {self.pk} ({self.get_state_display()})"

    def get_absolute_url(self) -> str:
        return reverse("capture:submission_status", args=[self.pk])

    def status_json_url(self) -> str:
        return reverse("capture:submission_status_json", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.state in (SubmissionState.DRAFTED, SubmissionState.FAILED)

    @property
    def can_retry(self) -> bool:
        return self.state == SubmissionState.FAILED

    def heartbeat_is_stale(self, now=None) -> bool:
        limit = (now or timezone.now()) - timedelta(seconds=settings.WORKER_STALE_SECONDS)
        return self.heartbeat is None or self.heartbeat < limit

    @property
    def total_duration(self) -> float:
        return sum(part.clip.duration or 0 for part in self.parts.all())


class ClipPart(models.Model):
    """One clip of a submission: the single clip of a free telling, or the answer to one guided prompt."""

    submission = models.ForeignKey(ClipSubmission, on_delete=models.CASCADE, related_name="parts")
    prompt = models.CharField(max_length=10, choices=Prompt.choices, default=Prompt.FREE)
    position = models.PositiveSmallIntegerField(default=0)
    clip = models.ForeignKey("stories.Clip", on_delete=models.PROTECT, related_name="submission_parts")
    transcript = models.TextField(blank=True)
    segments = models.JSONField(
        default=list, blank=True, help_text="Timed lines as capture.segments.Segment.as_json() writes them."
    )
    transcribed = models.BooleanField(default=False)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "prompt"], name="one_clip_per_prompt"),
        ]

    def __str__(self) -> str:
        return f"{self.get_prompt_display()} of submission {self.submission_id}"
