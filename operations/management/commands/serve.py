"""Start the web server and the background worker together; one Ctrl-C stops both."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run gunicorn on 0.0.0.0:$PORT and the task worker, supervised together."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))

    def account_summary(self) -> str:
        from operations.accounts import read_credentials

        path = settings.VAR_DIR / "credentials"
        accounts = read_credentials(path)
        if not accounts:
            return "from STORYBANK_ADMIN_USER / STORYBANK_STAFF_USER"
        names = ", ".join(f"{role} '{username}'" for role, (username, _) in accounts.items())
        return f"{names} (passwords in {path})"

    def handle(self, *args, **options):
        port = options["port"]
        python = sys.executable
        web = [
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
        worker = [python, "manage.py", "run_worker"]
        processes = [subprocess.Popen(web), subprocess.Popen(worker)]
        base = f"http://localhost:{port}"
        self.stdout.write(
            self.style.SUCCESS(
                "\nStorybank is running (web and worker). Press Ctrl-C to stop both.\n"
                f"  Site:   {base}/\n  Admin:  {base}/admin/\n  Share:  {base}/share/\n"
                f"  Health: {base}/healthz\n"
                f"  Accounts: {self.account_summary()}\n"
            )
        )

        def stop(*_):
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for process in processes:
                try:
                    process.wait(timeout=max(deadline - time.monotonic(), 0.1))
                except subprocess.TimeoutExpired:
                    process.kill()

        signal.signal(signal.SIGINT, lambda *_: (stop(), sys.exit(0)))
        signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
        while True:
            for process in processes:
                code = process.poll()
                if code is not None:
                    self.stderr.write(f"{' '.join(process.args[:4])} exited with {code}; stopping.")
                    stop()
                    sys.exit(code or 1)
            time.sleep(0.5)
