"""`manage.py listen_email`: the local SMTP listener for questions, until SIGTERM or Ctrl-C.

`manage.py serve` (what `make run` starts) runs it beside the web server when
QUESTIONS_SMTP_LISTEN is set. Send a question to it with any mail client, or:

    swaks --server 127.0.0.1:2525 --to storybank@localhost --from you@example.org \\
        --header "Subject: Who knows about pump corrosion?" --body "Has anyone stopped it for good?"
"""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from questions.smtp import library_address, listen_address, start_listener
from search import embeddings


class Command(BaseCommand):
    help = "Take questions by e-mail over SMTP on a local port (no TLS, no authentication: local use only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--listen",
            default=settings.QUESTIONS_SMTP_LISTEN,
            help="host:port to listen on (default: QUESTIONS_SMTP_LISTEN).",
        )

    def handle(self, *args, **options):
        if not options["listen"]:
            raise CommandError(
                "No address to listen on: set QUESTIONS_SMTP_LISTEN or pass --listen host:port."
            )
        try:
            host, port = listen_address(options["listen"])
        except ImproperlyConfigured as error:
            raise CommandError(str(error))
        stopped = threading.Event()
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signal_number, lambda *_: stopped.set())
        embeddings.warm_up()  # the first question need not wait for the model to load
        try:
            listener = start_listener(host, port)
        except OSError as error:
            raise CommandError(f"Cannot listen on {host}:{port}: {error}")
        self.stdout.write(f"Listening on smtp://{host}:{port} for questions to {library_address()}.")
        self.stdout.flush()
        try:
            stopped.wait()
        finally:
            listener.stop()
