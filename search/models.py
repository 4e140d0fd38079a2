"""The durable queue of index updates: a row per story whose index entry must be brought up to date.

Editors' actions (publish, unpublish, delete, move, renaming a theme…) and bulk writes (imports)
only add rows here, inside their own transaction, so a search outage can never fail or lose them.
The worker applies the queue (search.sync.apply_pending_updates) and removes each row once the
index agrees. An update the engine keeps refusing is retried with a growing delay and, after
settings.SEARCH_UPDATE_MAX_ATTEMPTS refusals, parked: it waits for `search_index retry`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class PendingIndexUpdateQuerySet(models.QuerySet):
    def ready(self, now=None) -> PendingIndexUpdateQuerySet:
        """Updates the worker should try now: not parked, and not waiting out a back-off."""
        now = now or timezone.now()
        return self.filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now), parked_at__isnull=True
        )

    def waiting(self, now=None) -> PendingIndexUpdateQuerySet:
        """Updates that failed and wait for their next attempt."""
        return self.filter(next_attempt_at__gt=now or timezone.now(), parked_at__isnull=True)

    def parked(self) -> PendingIndexUpdateQuerySet:
        return self.filter(parked_at__isnull=False)


class PendingIndexUpdate(models.Model):
    """Story `story_id` changed; re-read it from the database and index or remove it."""

    story_id = models.BigIntegerField(
        db_index=True, help_text="Not a foreign key: deleted stories stay queued."
    )
    reason = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="After a refusal: not retried before this time."
    )
    parked_at = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="Refused too often: left alone until someone runs `search_index retry`.",
    )

    objects = PendingIndexUpdateQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        verbose_name = "pending search-index update"

    def __str__(self) -> str:
        return f"story {self.story_id} ({self.reason or 'changed'})"

    @property
    def state(self) -> str:
        if self.parked_at:
            return "parked"
        if self.next_attempt_at and self.next_attempt_at > timezone.now():
            return "waiting to retry"
        return "queued"


class StoryEmbeddingQuerySet(models.QuerySet):
    def waiting(self) -> StoryEmbeddingQuerySet:
        """Stories whose current text has no vectors yet: the worker embeds these next."""
        return self.filter(vectors__isnull=True)


class StoryEmbedding(models.Model):
    """The vectors of one story's current text (search.embeddings): the story, then each transcript segment.

    Kept in the database so a rebuild never recomputes them and a killed worker resumes where it
    stopped; `digest` names the text and model they were computed from. No vectors = waiting.
    """

    story_id = models.BigIntegerField(unique=True)
    digest = models.CharField(max_length=32)
    vectors = models.BinaryField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StoryEmbeddingQuerySet.as_manager()

    class Meta:
        indexes = [
            # "Is any story waiting for its vectors?" is asked by every search and routed question:
            # without it, a scan of every row (80 ms to 4 s at 100,000 stories on SQLite).
            models.Index(
                fields=["story_id"], condition=models.Q(vectors__isnull=True), name="embedding_waiting"
            )
        ]

    def __str__(self) -> str:
        return f"vectors of story {self.story_id}"
