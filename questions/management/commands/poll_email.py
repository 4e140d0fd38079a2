"""`manage.py poll_email`: take the questions waiting in the IMAP mailbox now, once.

The worker does the same every QUESTIONS_IMAP_POLL_SECONDS (`questions.imap.poll_when_due`).
Exits 75 (EX_TEMPFAIL) when the database is unavailable, the message left in the mailbox.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from questions.imap import CONNECTION_ERRORS, describe_error, poll_mailbox
from questions.mail import DATABASE_OUTAGES
from questions.management.commands.receive_email import EX_TEMPFAIL
from storybank.redaction import redact_credentials


class Command(BaseCommand):
    help = "Receive the questions waiting in the mailbox of QUESTIONS_IMAP_URL, once, and say what became of each."

    def handle(self, *args, **options):
        url = settings.QUESTIONS_IMAP_URL
        if not url:
            raise CommandError("QUESTIONS_IMAP_URL is not set: there is no mailbox to poll.")
        try:
            outcomes = poll_mailbox(url)
        except DATABASE_OUTAGES as error:
            raise CommandError(
                f"temporary failure, the message stays in the mailbox: {error}", returncode=EX_TEMPFAIL
            ) from error
        except CONNECTION_ERRORS as error:
            raise CommandError(f"could not poll {redact_credentials(url)}: {describe_error(error)}")
        for outcome in outcomes:
            self.stdout.write(str(outcome))
        if not outcomes:
            self.stdout.write("no mail waiting")
