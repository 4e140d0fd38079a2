"""`manage.py receive_email`: one e-mail on standard input, as an MTA alias pipes it.

    storybank: "|/srv/storybank/.venv/bin/python /srv/storybank/manage.py receive_email"

Exits 0 for every message it handled, refused or ignored (an MTA must not bounce those back to
the sender), and 75 (EX_TEMPFAIL) when the database is unavailable: the MTA keeps the message
and delivers it again later.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from questions.mail import DATABASE_OUTAGES, MAX_MESSAGE_BYTES, receive_message

EX_TEMPFAIL = 75
READ_CHUNK_BYTES = 1024 * 1024


class Command(BaseCommand):
    help = "Read one RFC 822 e-mail on standard input and store the question it asks."
    stealth_options = ("stdin",)

    def handle(self, *args, **options):
        raw = read_message(options.get("stdin") or sys.stdin)
        try:
            outcome = receive_message(raw)
        except DATABASE_OUTAGES as error:
            raise CommandError(
                f"temporary failure, deliver again later: {error}", returncode=EX_TEMPFAIL
            ) from error
        self.stdout.write(str(outcome))


def read_message(stream) -> bytes:
    """The message's bytes, up to MAX_MESSAGE_BYTES; the rest is read and dropped.

    Reading to the end matters: an MTA whose pipe is closed early counts the delivery as failed.
    """
    stream = getattr(stream, "buffer", stream)
    kept = bytearray()
    while chunk := stream.read(READ_CHUNK_BYTES):
        if len(kept) < MAX_MESSAGE_BYTES:
            kept += chunk[: MAX_MESSAGE_BYTES - len(kept)]
    return bytes(kept)
