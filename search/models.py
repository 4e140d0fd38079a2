"""The durable queue of index updates: a row per story whose index entry must be brought up to date.

Editors' actions (publish, unpublish, delete, move, renaming a theme…) only add rows here, inside
their own transaction, so a search outage can never fail or lose them. The worker applies the
queue (search.sync.apply_pending_updates) and removes each row once the index agrees.
"""

from django.db import models


class PendingIndexUpdate(models.Model):
    """Story `story_id` changed; re-read it from the database and index or remove it."""

    story_id = models.BigIntegerField(
        db_index=True, help_text="Not a foreign key: deleted stories stay queued."
    )
    reason = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = "pending search-index update"

    def __str__(self) -> str:
        return f"story {self.story_id} ({self.reason or 'changed'})"
