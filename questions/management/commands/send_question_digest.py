"""`manage.py send_question_digest`: the weekly digest, when it is due (the worker does this by itself).

manage.py send_question_digest           # sends this week's digest if it is due and not yet sent
manage.py send_question_digest --force   # sends now, whatever the day; it counts as this week's
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from questions.digest import DigestSchedule, iso_week, send_now


class Command(BaseCommand):
    help = "E-mail colleagues the questions answered this week and those still open."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Send now, even if this week's digest is out."
        )

    def handle(self, *args, **options):
        now = timezone.now()
        week = iso_week(now)
        if options["force"]:
            sent = send_now(now)
        else:
            sent = DigestSchedule().send_when_due(now)
        if sent is None:
            self.stdout.write(f"No digest sent: the digest for {week} is not due yet or already sent.")
        else:
            self.stdout.write(f"Sent the digest for {week} to {sent} colleague{'s' if sent != 1 else ''}.")
