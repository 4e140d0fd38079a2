"""The background worker: django-tasks-db's worker loop plus the housekeeping threads beside it.

The heartbeat (read by /healthz) has a thread of its own and does nothing else, and each
housekeeping function listed in settings.STORYBANK_HOUSEKEEPING (re-queueing work a killed worker
left behind, applying pending search-index updates) runs in its own thread too: a job that fails
or takes long delays only itself, never the heartbeat or the other jobs, and all of them keep
running while a long transcription occupies the task loop.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
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


def run_startup() -> None:
    run_steps("STORYBANK_WORKER_STARTUP")


class Repeating(threading.Thread):
    """Calls `job` every `interval` seconds until `stopped` is set; an exception is logged, then the next round runs."""

    def __init__(self, name: str, job: Callable[[], object], interval: float, stopped: threading.Event):
        super().__init__(name=name, daemon=True)
        self.job = job
        self.interval = interval
        self.stopped = stopped

    def run(self) -> None:
        while not self.stopped.is_set():
            close_old_connections()
            try:
                self.job()
            except Exception:
                logger.exception("%s failed; it runs again in %ss", self.name, self.interval)
            finally:
                close_old_connections()
            self.stopped.wait(self.interval)


def _imported(dotted_path: str) -> Callable[[], object]:
    """The job named by `dotted_path`; a name that does not import fails each round, in its own thread."""

    def job():
        return import_string(dotted_path)()

    return job


class Housekeeper:
    """This worker's heartbeat and housekeeping jobs, each in a daemon thread of its own."""

    def __init__(self, worker_id: str, interval: float, jobs: Iterable[str] | None = None):
        self.worker_id = worker_id
        self.stopped = threading.Event()
        hostname, pid = socket.gethostname(), os.getpid()

        def beat() -> None:
            WorkerHeartbeat.beat(worker_id, hostname=hostname, pid=pid)
            WorkerHeartbeat.forget_stale(timedelta(days=1))

        jobs = settings.STORYBANK_HOUSEKEEPING if jobs is None else jobs
        self.threads = [Repeating("storybank-heartbeat", beat, interval, self.stopped)]
        self.threads += [
            Repeating(f"storybank-housekeeping {path}", _imported(path), interval, self.stopped)
            for path in jobs
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask every thread to stop and wait a little for them (a job in the middle of a round finishes it)."""
        self.stopped.set()
        for thread in self.threads:
            if thread.is_alive():
                thread.join(timeout)


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{get_random_string(6)}"
