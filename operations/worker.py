"""The background worker: django-tasks-db's worker loop plus a housekeeping thread.

The housekeeping thread beats this worker's heartbeat (read by /healthz) and runs the
housekeeping functions listed in settings.STORYBANK_HOUSEKEEPING — re-queueing work that a
killed worker left behind, and applying pending search-index updates — so they keep running even
while a long transcription occupies the task loop.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string

from operations.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


def run_steps(setting_name: str) -> None:
    """Call each function named in the setting once; one failing never stops the others."""
    for dotted_path in getattr(settings, setting_name, []):
        try:
            import_string(dotted_path)()
        except Exception:
            logger.exception("%s step %s failed", setting_name, dotted_path)


def run_housekeeping() -> None:
    run_steps("STORYBANK_HOUSEKEEPING")


def run_startup() -> None:
    run_steps("STORYBANK_WORKER_STARTUP")


class Housekeeper(threading.Thread):
    def __init__(self, worker_id: str, interval: float):
        super().__init__(name="storybank-housekeeper", daemon=True)
        self.worker_id = worker_id
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        hostname, pid = socket.gethostname(), os.getpid()
        while not self.stopped.is_set():
            close_old_connections()
            try:
                WorkerHeartbeat.beat(self.worker_id, hostname=hostname, pid=pid)
                WorkerHeartbeat.forget_stale(timedelta(days=1))
            except Exception:
                logger.exception("Heartbeat failed")
            run_housekeeping()
            close_old_connections()
            self.stopped.wait(self.interval)


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{get_random_string(6)}"
