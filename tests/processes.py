"""Helpers for tests that run Storybank's own commands as real processes against a SQLite file."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings


def manage(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `manage.py ARGS` in a child process with `env`; raise if it fails."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_worker(env: dict) -> subprocess.Popen:
    """`manage.py run_worker` as a child process (its output discarded); the caller stops it."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_worker"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def sqlite_row(database: Path, sql: str):
    with sqlite3.connect(database, timeout=30) as connection:
        return connection.execute(sql).fetchone()


def wait_for(condition, timeout: float, message: str):
    """Poll `condition` until it returns something true (returned), or fail with `message`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(message)


def free_port() -> int:
    """A TCP port nothing listens on now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
