"""`manage.py serve` keeps its children running: the worker, and the local mail listener beside it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings

from operations.management.commands.serve import ChildSupervisor
from tests.processes import free_port, manage, wait_for


def test_a_child_that_dies_is_started_again_after_its_back_off():
    said: list[str] = []
    child = ChildSupervisor("mail listener", [sys.executable, "-c", "raise SystemExit(3)"], said.append)
    child.start()
    first_pid = child.process.pid
    child.process.wait(timeout=30)

    child.check()
    child.check()  # within the back-off: nothing started yet
    assert child.process is None
    wait_for(lambda: time.monotonic() >= child.next_start_at, 5, "the back-off never ended")
    child.check()

    assert said[0] == f"Started the mail listener (pid {first_pid})."
    assert said[1] == (
        f"The mail listener (pid {first_pid}) exited with 3 after 0s; "
        "starting a new one in 1s. The web server keeps serving."
    )
    assert said[2] == f"Started the mail listener (pid {child.process.pid})."
    assert len(said) == 3
    child.process.wait(timeout=30)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
@pytest.mark.own_sqlite
def test_serve_runs_the_mail_listener_restarts_it_when_killed_and_stops_it_with_the_rest(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ELASTICSEARCH_", "DATABASE_URL", "DJANGO_"))
    }
    smtp_port = free_port()
    env.update(
        PYTHONUNBUFFERED="1",
        STORYBANK_VAR_DIR=str(tmp_path / "var"),
        MEDIA_ROOT=str(tmp_path / "media"),
        SEARCH_INDEX_DIR=str(tmp_path / "search-index"),
        QUESTIONS_SMTP_LISTEN=f"127.0.0.1:{smtp_port}",
        QUESTIONS_EMAIL_ADDRESS="Storybank <questions@stories.example.org>",
    )
    manage(env, "migrate", "-v0")
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        serve = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(free_port()), "--web-workers", "1"],
            cwd=django_settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def listener_pids() -> list[int]:
        return [
            int(pid) for pid in re.findall(r"Started the mail listener \(pid (\d+)\)", log_path.read_text())
        ]

    try:
        wait_for(
            lambda: _listening(smtp_port), 60, f"the mail listener never listened:\n{log_path.read_text()}"
        )
        assert (
            f"  Mail:   smtp://127.0.0.1:{smtp_port} — send questions to questions@stories.example.org"
            in log_path.read_text()
        )
        [first] = listener_pids()
        os.kill(first, signal.SIGKILL)

        wait_for(lambda: len(listener_pids()) == 2, 60, f"no new mail listener:\n{log_path.read_text()}")
        wait_for(
            lambda: _listening(smtp_port), 60, f"the new listener never listened:\n{log_path.read_text()}"
        )
        assert f"The mail listener (pid {first}) was killed by signal 9" in log_path.read_text()
        assert serve.poll() is None
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)

    assert not _listening(smtp_port)
