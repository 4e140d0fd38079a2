"""Start the web server, the background worker and the local mail listener; one Ctrl-C stops all.

The web server is what people reach, so a worker that dies (even killed with SIGKILL) never takes
it down: the worker is started again after a pause that doubles while it keeps dying, from
RESTART_DELAY_SECONDS up to MAX_RESTART_DELAY_SECONDS, and is back to the shortest pause once a
worker has stayed up for HEALTHY_RUN_SECONDS. Queued work survives (the queue is in the
database) and the new worker re-queues what the dead one left. The mail listener
(`manage.py listen_email`, when QUESTIONS_SMTP_LISTEN is set) is kept running the same way. Only
the web server's exit stops everything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from email.utils import parseaddr

from django.conf import settings
from django.core.management.base import BaseCommand

from operations.accounts import read_credentials

RESTART_DELAY_SECONDS = 1.0
MAX_RESTART_DELAY_SECONDS = 60.0
HEALTHY_RUN_SECONDS = 60.0
POLL_SECONDS = 0.5


def restart_delay(consecutive_deaths: int) -> float:
    """The pause before starting a worker that died `consecutive_deaths` times in a row (at least once)."""
    return min(RESTART_DELAY_SECONDS * 2 ** max(consecutive_deaths - 1, 0), MAX_RESTART_DELAY_SECONDS)


class ChildSupervisor:
    """Keeps one child process running: starts it, notices it died, starts it again after a back-off."""

    def __init__(self, name: str, command: list[str], write):
        self.name = name
        self.command = command
        self.write = write
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.consecutive_deaths = 0
        self.next_start_at = 0.0

    def start(self) -> None:
        self.process = subprocess.Popen(self.command)
        self.started_at = time.monotonic()
        self.write(f"Started the {self.name} (pid {self.process.pid}).")

    def check(self) -> None:
        """Called every poll: restart a dead child once its back-off has passed."""
        now = time.monotonic()
        if self.process is None:
            if now >= self.next_start_at:
                self.start()
            return
        code = self.process.poll()
        if code is None:
            return
        lived = now - self.started_at
        self.consecutive_deaths = 1 if lived >= HEALTHY_RUN_SECONDS else self.consecutive_deaths + 1
        delay = restart_delay(self.consecutive_deaths)
        how = f"was killed by signal {-code}" if code < 0 else f"exited with {code}"
        self.write(
            f"The {self.name} (pid {self.process.pid}) {how} after {lived:.0f}s; "
            f"starting a new one in {delay:.0f}s. The web server keeps serving."
        )
        self.process = None
        self.next_start_at = now + delay


class Command(BaseCommand):
    help = "Run gunicorn on 0.0.0.0:$PORT, the task worker and the local mail listener, supervised together."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))

    def account_summary(self) -> str:
        path = settings.VAR_DIR / "credentials"
        accounts = read_credentials(path)
        if not accounts:
            return "from STORYBANK_ADMIN_USER / STORYBANK_STAFF_USER"
        names = ", ".join(f"{role} '{username}'" for role, (username, _) in accounts.items())
        return f"{names} (passwords in {path})"

    def mail_line(self) -> str:
        """The banner's line on the mail listener; empty when QUESTIONS_SMTP_LISTEN is off."""
        if not settings.QUESTIONS_SMTP_LISTEN:
            return ""
        address = parseaddr(settings.QUESTIONS_EMAIL_ADDRESS)[1]
        return f"  Mail:   smtp://{settings.QUESTIONS_SMTP_LISTEN} — send questions to {address}\n"

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def handle(self, *args, **options):
        port = options["port"]
        python = sys.executable
        web_command = [
            python,
            "-m",
            "gunicorn",
            "storybank.wsgi:application",
            "--bind",
            f"0.0.0.0:{port}",
            "--workers",
            str(options["web_workers"]),
            "--threads",
            "4",
            "--timeout",
            "120",
            "--access-logfile",
            "-",
        ]
        web = subprocess.Popen(web_command)
        children = [ChildSupervisor("worker", [python, "manage.py", "run_worker"], self.say)]
        if settings.QUESTIONS_SMTP_LISTEN:
            children.append(ChildSupervisor("mail listener", [python, "manage.py", "listen_email"], self.say))
        for child in children:
            child.start()
        base = f"http://localhost:{port}"
        what_runs = "web, worker and mail listener" if len(children) > 1 else "web and worker"
        self.say(
            self.style.SUCCESS(
                f"\nStorybank is running ({what_runs}). Press Ctrl-C to stop them all.\n"
                f"  Site:   {base}/\n  Admin:  {base}/admin/\n  Share:  {base}/share/\n"
                f"  Health: {base}/healthz\n"
                f"{self.mail_line()}"
                f"  Accounts: {self.account_summary()}\n"
            )
        )

        def stop(*_):
            processes = [web, *(child.process for child in children)]
            running = [process for process in processes if process and process.poll() is None]
            for process in running:
                process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for process in running:
                try:
                    process.wait(timeout=max(deadline - time.monotonic(), 0.1))
                except subprocess.TimeoutExpired:
                    process.kill()

        signal.signal(signal.SIGINT, lambda *_: (stop(), sys.exit(0)))
        signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
        while True:
            code = web.poll()
            if code is not None:
                self.stderr.write(f"The web server exited with {code}; stopping.")
                stop()
                sys.exit(code or 1)
            for child in children:
                child.check()
            time.sleep(POLL_SECONDS)
