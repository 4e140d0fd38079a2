"""The weekly digest: what was answered this week and what is still open, once a week, to those who want it."""

from __future__ import annotations

import datetime
import re
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from questions import digest
from questions.digest import OPEN_SHOWN, DigestSchedule, send_now
from questions.models import Answer, DigestDelivery, DigestOptOut, DigestSent, Question, QuestionStatus
from questions.signed_links import DIGEST_OPT_OUT
from tests.factories import StoryPageFactory, UserFactory
from tests.questions.conftest import QuestionFactory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
# Monday 12 January 2026, ISO week 2026-W03; Berlin is an hour ahead of UTC in winter.
MONDAY_0759_BERLIN = datetime.datetime(2026, 1, 12, 7, 59, tzinfo=BERLIN)
MONDAY_0800_BERLIN = datetime.datetime(2026, 1, 12, 8, 0, tzinfo=BERLIN)
LONG_AGO = datetime.datetime(2025, 11, 3, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def site(settings):
    settings.WAGTAILADMIN_BASE_URL = "https://stories.example.org"
    settings.TIME_ZONE = "Europe/Berlin"
    settings.QUESTIONS_DIGEST_WEEKDAY = 0
    settings.QUESTIONS_DIGEST_HOUR = 8


def ask(text: str, *, asked: datetime.datetime = LONG_AGO, **fields) -> Question:
    question = QuestionFactory(text=text, **fields)
    Question.objects.filter(pk=question.pk).update(created_at=asked)
    question.refresh_from_db()
    return question


def answered(text: str, when: datetime.datetime, **fields) -> Question:
    return ask(text, status=QuestionStatus.ANSWERED, answered_at=when, **fields)


@pytest.fixture
def week(site, asker, colleague):
    """As of Monday 08:00: three answered this week (one by a draft, one in writing), older ones, and open ones."""
    now = MONDAY_0800_BERLIN
    coating = StoryPageFactory(title="The coating that lasted")
    draft = StoryPageFactory(title="Zephyr pricing, not yet reviewed", publish=False)
    answered(
        "Has anyone tested ceramic coatings?",
        now - datetime.timedelta(days=1),
        asker=asker,
        answered_by=coating,
    )
    answered(
        "How do we price the Zephyr contract?",
        now - datetime.timedelta(days=2),
        asker=asker,
        answered_by=draft,
    )
    written = answered(
        "Who keeps the pump spare parts?", now - datetime.timedelta(days=6, hours=23), asker=asker
    )
    Answer.objects.create(question=written, author=colleague, text="Omar, in hall 2.", accepted=True)
    answered("Where did the kanban board go?", now - datetime.timedelta(days=7, minutes=1), asker=colleague)
    ask("Which form closes a project?", status=QuestionStatus.CLOSED, asker=colleague)
    ask("Which coating lasts on pumps?", asked=LONG_AGO + datetime.timedelta(days=2), asker=asker)
    ask("Who approves the travel budget?", asked=LONG_AGO, asker=colleague)
    return now


def digest_to(address: str):
    [message] = [message for message in mail.outbox if message.to == [address]]
    return message


def test_each_colleague_gets_the_weeks_answers_and_the_open_questions_oldest_first(week, asker):
    sent = send_now(week)

    assert sent == 2  # Lena and Theo
    message = digest_to("lena@example.org")
    assert message.subject == "Questions this week: 3 answered, 2 open"
    body = message.body
    listed = re.findall(r"^- (.+)$", body, flags=re.MULTILINE)
    assert listed == [
        "Has anyone tested ceramic coatings?",
        "How do we price the Zephyr contract?",
        "Who keeps the pump spare parts?",
        "Who approves the travel budget? (asked by Theo on 3 November 2025)",
        "Which coating lasts on pumps? (asked by Lena Berg on 5 November 2025)",
    ]
    coating = StoryPageFactory._meta.model.objects.get(title="The coating that lasted")
    assert (
        f"Answered by the story “The coating that lasted”: https://stories.example.org{coating.url}" in body
    )
    assert "Theo answered: Omar, in hall 2." in body
    assert "not yet reviewed" not in body  # a draft answers nothing, in a digest either
    assert "not yet reviewed" not in message.alternatives[0][0]
    assert "kanban" not in body and "closes a project" not in body
    assert "Every question: https://stories.example.org/questions/" in body
    assert '<a href="https://stories.example.org/questions/">Every question</a>' in message.alternatives[0][0]


def test_the_digest_carries_an_unsubscribe_link_and_header_that_work_without_signing_in(week, asker):
    send_now(week)
    message = digest_to("lena@example.org")
    [link] = re.findall(r"https://stories\.example\.org/questions/digest/stop/[^/\s]+/", message.body)
    assert message.extra_headers["List-Unsubscribe"] == f"<{link}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f'href="{link}"' in message.alternatives[0][0]
    client, path = Client(), link.removeprefix("https://stories.example.org")

    confirm = client.get(path)
    assert confirm.status_code == 200
    assert "Stop sending you the weekly digest?" in confirm.content.decode()
    assert not DigestOptOut.objects.exists()  # a mail scanner opening the link changes nothing

    done = client.post(path)
    assert done.status_code == 200
    assert "Done: no more digests" in done.content.decode()
    assert list(DigestOptOut.objects.values_list("user__username", flat=True)) == ["lena"]
    assert client.post(path).status_code == 200
    assert DigestOptOut.objects.count() == 1

    mail.outbox.clear()
    assert send_now(week) == 1
    assert [message.to for message in mail.outbox] == [["theo@example.org"]]


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_changed_unsubscribe_token_is_refused_and_opts_nobody_out(client, asker, colleague, method):
    token = DIGEST_OPT_OUT.token(asker.pk)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    other_user = f"{colleague.pk}{token[token.index(':') :]}"

    for changed in (tampered, other_user, "not-a-token"):
        response = getattr(client, method)(reverse("question_feeds:stop_digest", args=[changed]))
        assert response.status_code == 400
        assert "This link is not one Storybank sent" in response.content.decode()
    assert not DigestOptOut.objects.exists()


def test_inactive_colleagues_and_those_without_an_address_get_nothing(week):
    UserFactory(username="gone", email="gone@example.org", is_active=False)
    UserFactory(username="nomail", email="")

    assert send_now(week) == 2
    assert sorted(message.to[0] for message in mail.outbox) == ["lena@example.org", "theo@example.org"]


def test_nothing_is_sent_when_nothing_was_answered_and_nothing_is_open(site, asker):
    answered("Where did the kanban board go?", MONDAY_0800_BERLIN - datetime.timedelta(days=8))
    ask("Which form closes a project?", status=QuestionStatus.CLOSED)

    assert send_now(MONDAY_0800_BERLIN) == 0
    assert mail.outbox == []


def test_a_long_open_list_shows_the_oldest_and_says_how_many_more(site, asker):
    for number in range(OPEN_SHOWN + 3):
        ask(f"Open question {number:02d}?", asked=LONG_AGO + datetime.timedelta(hours=number))

    send_now(MONDAY_0800_BERLIN)

    message = digest_to("lena@example.org")
    assert message.subject == "Questions this week: 0 answered, 13 open"
    listed = re.findall(r"^- (Open question \d+\?)", message.body, flags=re.MULTILINE)
    assert listed == [f"Open question {number:02d}?" for number in range(OPEN_SHOWN)]
    assert "…and 3 more: https://stories.example.org/questions/" in message.body
    assert "ANSWERED THIS WEEK" not in message.body


def test_the_digest_is_sent_from_the_weekday_and_hour_in_the_librarys_time_zone(
    week, django_assert_num_queries
):
    schedule = DigestSchedule()

    with django_assert_num_queries(0):
        assert schedule.send_when_due(MONDAY_0759_BERLIN) is None
    assert mail.outbox == []

    assert schedule.send_when_due(MONDAY_0800_BERLIN) == 2
    assert len(mail.outbox) == 2
    assert list(DigestSent.objects.values_list("week", "recipients")) == [("2026-W03", 2)]


def test_the_digest_goes_out_once_a_week_however_often_and_by_however_many_workers(
    week, django_assert_num_queries
):
    first_worker, second_worker = DigestSchedule(), DigestSchedule()
    assert first_worker.send_when_due(MONDAY_0800_BERLIN) == 2

    with django_assert_num_queries(0):  # it remembers the week it sent
        assert first_worker.send_when_due(MONDAY_0800_BERLIN + datetime.timedelta(hours=3)) is None
    with django_assert_num_queries(1):  # another process asks the database once, then remembers too
        assert second_worker.send_when_due(MONDAY_0800_BERLIN + datetime.timedelta(days=2)) is None
    with django_assert_num_queries(0):
        assert second_worker.send_when_due(MONDAY_0800_BERLIN + datetime.timedelta(days=2, minutes=1)) is None
    assert len(mail.outbox) == 2
    assert DigestSent.objects.count() == 1

    next_monday = MONDAY_0800_BERLIN + datetime.timedelta(days=7)
    assert second_worker.send_when_due(next_monday) == 2  # open questions are still open
    assert first_worker.send_when_due(next_monday) is None
    assert sorted(DigestSent.objects.values_list("week", flat=True)) == ["2026-W03", "2026-W04"]
    assert len(mail.outbox) == 4


class WorkerKilled(BaseException):
    """The worker's process ended (SIGKILL, a restart) in the middle of the send."""


def send_killed_while_reading_the_second(monkeypatch) -> None:
    """A worker starts this week's digest and dies while reading the second recipient's questions."""
    real_digest_for = digest.digest_for
    calls = []

    def killed_while_reading_the_second(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise WorkerKilled
        return real_digest_for(*args, **kwargs)

    monkeypatch.setattr(digest, "digest_for", killed_while_reading_the_second)
    with pytest.raises(WorkerKilled):
        DigestSchedule().send_when_due(MONDAY_0800_BERLIN)
    monkeypatch.setattr(digest, "digest_for", real_digest_for)


def test_a_digest_cut_off_half_way_is_finished_later_and_nobody_gets_it_twice(week, monkeypatch):
    send_killed_while_reading_the_second(monkeypatch)
    [first] = [message.to[0] for message in mail.outbox]
    record = DigestSent.objects.get()
    assert record.finished_at is None

    next_worker = DigestSchedule()
    assert (
        next_worker.send_when_due(MONDAY_0800_BERLIN + datetime.timedelta(minutes=5)) is None
    )  # may be sending
    assert len(mail.outbox) == 1
    assert next_worker.send_when_due(MONDAY_0800_BERLIN + datetime.timedelta(minutes=11)) == 1

    assert sorted(message.to[0] for message in mail.outbox) == ["lena@example.org", "theo@example.org"]
    assert mail.outbox[1].to[0] != first
    record.refresh_from_db()
    assert record.finished_at is not None and record.recipients == 2
    later = MONDAY_0800_BERLIN + datetime.timedelta(hours=1)
    assert next_worker.send_when_due(later) is None
    assert DigestSchedule().send_when_due(later) is None
    assert len(mail.outbox) == 2


def test_a_long_send_shows_its_progress_so_nobody_takes_it_over(week, monkeypatch):
    """Eleven minutes into a send (a slow mail server) the worker is still stamping its progress."""
    clock = iter([0.0, 0.0, 660.0, 660.0, 660.0])
    monkeypatch.setattr(digest.time, "monotonic", lambda: next(clock))
    send_killed_while_reading_the_second(monkeypatch)
    monkeypatch.setattr(digest.time, "monotonic", lambda: 0.0)

    next_worker = DigestSchedule()
    assert next_worker.send_when_due(MONDAY_0800_BERLIN + datetime.timedelta(minutes=12)) is None
    assert next_worker.send_when_due(MONDAY_0800_BERLIN + datetime.timedelta(minutes=22)) == 1
    assert len(mail.outbox) == 2


def test_a_copy_the_mail_server_refused_is_not_counted_as_sent(week, monkeypatch):
    real_send = digest.send_email
    monkeypatch.setattr(
        digest,
        "send_email",
        lambda *args, **kwargs: args[3] != "theo@example.org" and real_send(*args, **kwargs),
    )

    assert DigestSchedule().send_when_due(MONDAY_0800_BERLIN) == 1

    assert list(DigestDelivery.objects.values_list("user__email", flat=True)) == ["lena@example.org"]
    assert DigestSent.objects.get().recipients == 1


def test_a_worker_that_starts_late_in_the_week_still_sends_that_weeks_digest(week):
    thursday = MONDAY_0800_BERLIN + datetime.timedelta(days=3)

    assert DigestSchedule().send_when_due(thursday) == 2
    assert list(DigestSent.objects.values_list("week", flat=True)) == ["2026-W03"]


@pytest.fixture
def clock(monkeypatch):
    """A clock the test sets, for code that asks timezone.now() itself (the job, the command)."""

    class Clock:
        now = MONDAY_0759_BERLIN

    monkeypatch.setattr(timezone, "now", lambda: Clock.now.astimezone(datetime.UTC))
    return Clock


def test_the_housekeeping_job_sends_when_due_now(site, asker, clock, monkeypatch):
    monkeypatch.setattr(digest, "schedule", DigestSchedule())
    ask("Which coating lasts on pumps?", asker=asker)

    assert digest.send_when_due() is None
    clock.now = MONDAY_0800_BERLIN
    assert digest.send_when_due() == 1
    assert digest.send_when_due() is None
    assert [message.to for message in mail.outbox] == [["lena@example.org"]]


def test_the_command_sends_when_due_and_force_sends_at_once(site, asker, clock):
    ask("Which coating lasts on pumps?", asker=asker)
    not_sent = "No digest sent: the digest for 2026-W03 is not due yet or already sent.\n"

    def command(*args) -> str:
        out = StringIO()
        call_command("send_question_digest", *args, stdout=out)
        return out.getvalue()

    assert command() == not_sent
    assert mail.outbox == []
    assert command("--force") == "Sent the digest for 2026-W03 to 1 colleague.\n"
    assert list(DigestSent.objects.values_list("week", "recipients")) == [("2026-W03", 1)]
    clock.now = MONDAY_0800_BERLIN
    assert command() == not_sent  # the forced one counted as this week's
    assert command("--force") == "Sent the digest for 2026-W03 to 1 colleague.\n"
    assert len(mail.outbox) == 2
