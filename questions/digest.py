"""The weekly digest: questions answered in the last seven days and those still open, e-mailed to colleagues.

Each recipient sees only what `visible_questions(recipient)` allows, and the story that answered a
question only when they may read it. The worker calls `send_when_due` on every heartbeat; the
week's `DigestSent` row is created before anything is sent, so two workers never both send one
week, and each copy is recorded before it goes out, so a send cut off half-way is finished later
without anyone getting the digest twice.
"""

from __future__ import annotations

import datetime
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from questions.answered import AnsweredQuestion, with_answers
from questions.models import DigestDelivery, DigestOptOut, DigestSent, Question, QuestionStatus
from questions.notifications import absolute_url, send_email, unsubscribe_headers
from questions.signed_links import DIGEST_OPT_OUT
from questions.visibility import visible_questions

logger = logging.getLogger(__name__)

DIGEST_PERIOD = datetime.timedelta(days=7)
ANSWERED_SHOWN = 20
OPEN_SHOWN = 10
ANSWER_WORDS_SHOWN = 60


def digest_opt_out_url(user) -> str:
    return absolute_url(DIGEST_OPT_OUT.path(user.pk))


def opt_out_of_digest(user) -> None:
    DigestOptOut.objects.get_or_create(user=user)


def digest_recipients():
    """Active colleagues with an e-mail address who have not opted out."""
    return (
        get_user_model()
        .objects.filter(is_active=True, digest_opt_out__isnull=True)
        .exclude(email="")
        .order_by("pk")
    )


@dataclass
class Digest:
    """What one recipient is sent: the first few of each list, and how many more there are."""

    answered: list[AnsweredQuestion]
    answered_total: int
    open: list[Question]
    open_total: int

    @property
    def is_empty(self) -> bool:
        return not self.answered_total and not self.open_total


def digest_for(user, now: datetime.datetime) -> Digest:
    """Answered in the seven days before `now` (newest first) and open now (oldest first), as `user` may see them."""
    visible = visible_questions(user).filter(created_at__lte=now).select_related("asker")
    answered = visible.filter(
        status=QuestionStatus.ANSWERED, answered_at__gt=now - DIGEST_PERIOD, answered_at__lte=now
    )
    still_open = visible.filter(status=QuestionStatus.OPEN)
    return Digest(
        answered=with_answers(answered.order_by("-answered_at", "-pk")[:ANSWERED_SHOWN], user),
        answered_total=answered.count(),
        open=list(still_open.order_by("created_at", "pk")[:OPEN_SHOWN]),
        open_total=still_open.count(),
    )


def _answered_row(item: AnsweredQuestion) -> dict:
    row = {"question": item.question, "question_url": absolute_url(item.question.get_absolute_url())}
    if item.story:
        row.update(story_title=item.story.title, story_url=absolute_url(item.story.url))
    if item.written_answer:
        row.update(
            answer_author=item.written_answer.author_name,
            answer_text=Truncator(" ".join(item.written_answer.text.split())).words(
                ANSWER_WORDS_SHOWN, truncate="…"
            ),
        )
    return row


def digest_subject(digest: Digest) -> str:
    return f"Questions this week: {digest.answered_total} answered, {digest.open_total} open"


def send_digest(record: DigestSent, now: datetime.datetime | None = None) -> int:
    """E-mail the week's digest to every recipient with something to read who has not had it;
    returns how many e-mails went out.

    Each copy is recorded (`DigestDelivery`) before it is sent, and the record's progress stamped,
    so a send cut off half-way is finished by `DigestSchedule` without anyone getting it twice.
    A copy the mail server refused is not recorded: a resumed send tries it again. The one copy
    being sent when the worker died stays recorded (it may have gone out): never twice, at worst
    once missing.
    """
    now = now or timezone.now()
    started = time.monotonic()
    board_url = absolute_url(reverse("questions:board"))
    sent = 0
    for user in digest_recipients().exclude(pk__in=record.deliveries.values("user_id")):
        progress = now + datetime.timedelta(seconds=time.monotonic() - started)  # on `now`'s clock
        DigestSent.objects.filter(pk=record.pk).update(progress_at=progress)
        digest = digest_for(user, now)
        if digest.is_empty:
            continue
        delivery, created = DigestDelivery.objects.get_or_create(digest=record, user=user)
        if not created:  # another worker's copy
            continue
        unsubscribe_url = digest_opt_out_url(user)
        context = {
            "name": user.first_name.strip() or user.get_username(),
            "answered": [_answered_row(item) for item in digest.answered],
            "answered_total": digest.answered_total,
            "answered_more": digest.answered_total - len(digest.answered),
            "open": [
                {"question": question, "question_url": absolute_url(question.get_absolute_url())}
                for question in digest.open
            ],
            "open_total": digest.open_total,
            "open_more": digest.open_total - len(digest.open),
            "board_url": board_url,
            "answered_board_url": f"{board_url}?status={QuestionStatus.ANSWERED}",
            "unsubscribe_url": unsubscribe_url,
        }
        if send_email(
            digest_subject(digest),
            "digest",
            context,
            user.email,
            headers=unsubscribe_headers(unsubscribe_url),
        ):
            sent += 1
        else:
            delivery.delete()
    DigestSent.objects.filter(pk=record.pk).update(finished_at=now, recipients=record.deliveries.count())
    return sent


def iso_week(moment: datetime.datetime) -> str:
    """The ISO week `moment` falls in, in the library's time zone: "2026-W02"."""
    year, week, _ = timezone.localtime(moment, timezone.get_default_timezone()).isocalendar()
    return f"{year}-W{week:02d}"


def is_due(moment: datetime.datetime) -> bool:
    """At or after the digest's weekday and hour (settings.TIME_ZONE) in `moment`'s ISO week."""
    local = timezone.localtime(moment, timezone.get_default_timezone())
    return (local.weekday(), local.hour) >= (
        settings.QUESTIONS_DIGEST_WEEKDAY,
        settings.QUESTIONS_DIGEST_HOUR,
    )


def send_now(now: datetime.datetime | None = None) -> int:
    """Send at once to everyone, whatever the week (`send_question_digest --force`); it counts as
    this week's digest."""
    now = now or timezone.now()
    record, _ = DigestSent.objects.get_or_create(week=iso_week(now))
    record.deliveries.all().delete()
    return send_digest(record, now)


# A send that stamped no progress for this long was cut off (each recipient takes well under a second).
DIGEST_STALLED_AFTER = datetime.timedelta(minutes=10)


class DigestSchedule:
    """Sends each ISO week's digest once, at or after its weekday and hour, and finishes one cut off.

    Remembering the week it saw sent keeps the heartbeat's calls free of queries for the rest of
    the week; before the hour they make none either.
    """

    def __init__(self):
        self.week_known_sent = ""

    def send_when_due(self, now: datetime.datetime | None = None) -> int | None:
        """How many e-mails went out, or None when no digest was due (too early, or already sent)."""
        now = now or timezone.now()
        week = iso_week(now)
        if week == self.week_known_sent or not is_due(now):
            return None
        record, created = DigestSent.objects.get_or_create(week=week, defaults={"progress_at": now})
        if created:
            return self._send(record, now)
        if record.finished_at is not None:
            self.week_known_sent = week
            return None
        stalled = record.progress_at is None or record.progress_at <= now - DIGEST_STALLED_AFTER
        # Claimed by moving its progress stamp, so two workers never both finish it.
        if stalled and DigestSent.objects.filter(pk=record.pk, progress_at=record.progress_at).update(
            progress_at=now
        ):
            logger.warning("The digest for %s was cut off half-way; sending the rest", week)
            return self._send(record, now)
        return None

    def _send(self, record: DigestSent, now: datetime.datetime) -> int:
        sent = send_digest(record, now)
        self.week_known_sent = record.week
        return sent


schedule = DigestSchedule()


def send_when_due() -> int | None:
    """The worker's housekeeping job (settings.STORYBANK_HOUSEKEEPING), called on every heartbeat."""
    return schedule.send_when_due()
