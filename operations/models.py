"""Liveness records for background workers."""

from datetime import timedelta

from django.db import models
from django.utils import timezone


class WorkerHeartbeat(models.Model):
    """Each running worker process updates its row every few seconds; /healthz reads the newest."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    last_beat = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}:{self.pid})"

    @classmethod
    def beat(cls, worker_id: str, *, hostname: str = "", pid: int = 0) -> None:
        cls.objects.update_or_create(
            worker_id=worker_id,
            defaults={"hostname": hostname, "pid": pid, "last_beat": timezone.now()},
        )

    @classmethod
    def newest_age(cls) -> float | None:
        """Seconds since any worker last beat, or None if no worker has ever run."""
        newest = cls.objects.order_by("-last_beat").values_list("last_beat", flat=True).first()
        if newest is None:
            return None
        return (timezone.now() - newest).total_seconds()

    @classmethod
    def forget_stale(cls, older_than: timedelta) -> int:
        deleted, _ = cls.objects.filter(last_beat__lt=timezone.now() - older_than).delete()
        return deleted
