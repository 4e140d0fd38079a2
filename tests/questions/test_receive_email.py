"""Questions by e-mail through `manage.py receive_email`: real messages in, a question or a refusal out."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command

from questions.mail import Received, receive_message
from questions.models import MAX_QUESTION_LENGTH, Question, QuestionRouting
from tests.factories import PersonFactory, UserFactory
from tests.processes import free_port

pytestmark = pytest.mark.django_db

MAIL = Path(__file__).parent / "mail"
SITE = "https://stories.example.org"


@pytest.fixture
def library(corrosion_library, asker, settings):
    settings.DEFAULT_FROM_EMAIL = "Storybank <storybank@stories.example.org>"
    settings.QUESTIONS_ALLOWED_DOMAINS = ""
    return corrosion_library


def eml(name: str) -> bytes:
    return (MAIL / name).read_bytes()


def receive(raw: bytes) -> str:
    out = io.StringIO()
    call_command("receive_email", stdin=io.BytesIO(raw), stdout=out)
    return out.getvalue().strip()


def replies_to(address: str) -> list:
    return [message for message in mail.outbox if message.to == [address]]


def assert_stored(name: str, expected_text: str) -> Question:
    line = receive(eml(name))

    question = Question.objects.get()
    assert line == f"question stored #{question.pk} from lena@example.org; replied"
    assert question.text == expected_text
    assert question.asker.username == "lena"
    return question


def assert_ignored(name: str, line: str) -> None:
    assert receive(eml(name)) == line
    assert Question.objects.count() == 0
    assert mail.outbox == []


def test_plain_question_is_stored_routed_and_answered_with_what_the_library_knows(library):
    question = assert_stored(
        "plain.eml", "Corrosion on the cooling pumps\n\nWho knows how to stop corrosion on the cooling pumps?"
    )

    routed = set(QuestionRouting.objects.values_list("person__slug", flat=True))
    assert "kim-lab" in routed
    assert "lena-berg" not in routed  # never routed to the asker
    [reply] = replies_to("lena@example.org")
    assert reply.subject == "Re: Corrosion on the cooling pumps"
    assert reply.extra_headers["Auto-Submitted"] == "auto-replied"
    assert reply.extra_headers["X-Auto-Response-Suppress"] == "All"
    assert reply.extra_headers["In-Reply-To"] == "<plain-1@mail.example.org>"
    assert reply.extra_headers["References"] == "<plain-1@mail.example.org>"
    assert re.fullmatch(
        r"<storybank-notice\.[0-9a-f]{32}@stories\.example\.org>", reply.extra_headers["Message-ID"]
    )
    assert f"your question is now at\n{SITE}/questions/{question.pk}/\n" in reply.body
    assert "Here is what the library already knows:" in reply.body
    pumps = library.pumps
    assert f"- “{pumps.title}” {SITE}{pumps.url}" in reply.body
    assert "The question was sent to Kim Lab" in reply.body
    html, mimetype = reply.alternatives[0]
    assert mimetype == "text/html"
    assert f'<a href="{SITE}/questions/{question.pk}/">' in html
    assert f'<a href="{SITE}{pumps.url}">{pumps.title}</a>' in html
    # The people it was routed to are told as on the web: one e-mail each, beside the reply.
    assert len(replies_to("kim@example.org")) == 1
    sent_message = reply.message()
    assert sent_message["Auto-Submitted"] == "auto-replied"
    assert sent_message["To"] == "lena@example.org"


def test_the_same_message_delivered_twice_stores_one_question(library):
    receive(eml("plain.eml"))
    mail.outbox.clear()

    line = receive(eml("plain.eml"))

    assert line == "already received: nothing stored twice from lena@example.org; no reply"
    assert Question.objects.count() == 1
    assert mail.outbox == []


def test_a_redelivery_is_known_by_its_message_id_even_after_the_question_was_edited(library):
    receive(eml("plain.eml"))
    # An editor rewords the question: the words no longer match, the Message-ID still does
    # (recorded in the database, so every process that takes mail in knows it).
    Question.objects.update(text="Reworded by an editor")
    mail.outbox.clear()

    assert (
        receive(eml("plain.eml")) == "already received: nothing stored twice from lena@example.org; no reply"
    )
    assert Question.objects.count() == 1
    assert mail.outbox == []


def test_html_only_mail_is_read_as_text_without_its_quoted_part(library):
    assert_stored(
        "html_only.eml",
        "Pumps\n\nWho knows how to stop corrosion on the cooling pumps?\n\nR&D tried paint\nand it peeled.",
    )


def test_base64_utf8_body_and_encoded_subject_are_decoded(library):
    assert_stored(
        "base64.eml",
        "Korrosion an den Kühlpumpen\n\nWer weiß, wie man die Korrosion an den Kühlpumpen stoppt?\n\nDanke!",
    )


def test_quoted_printable_plain_part_is_read_and_the_html_twin_is_not(library):
    assert_stored(
        "quoted_printable.eml",
        "Pump coating\n\nWho knows how to stop corrosion on the cooling pumps? The coating we’re using peels "
        "off after a week, and the supplier’s datasheet doesn’t say why — any ideas?",
    )


def test_iso_8859_1_mail_keeps_its_accents(library):
    assert_stored(
        "latin1.eml",
        "Corrosion des pompes à eau\n\nQui connaît la corrosion des pompes de refroidissement ? "
        "Le revêtement céramique a-t-il été essayé ?",
    )


def test_a_reply_keeps_only_the_new_words_without_quote_or_signature(library):
    question = assert_stored(
        "reply_with_quote.eml",
        "Corrosion on the cooling pumps\n\nAnd does the ceramic coating survive salt water?",
    )

    [reply] = replies_to("lena@example.org")
    assert reply.subject == "Re: Corrosion on the cooling pumps"
    assert reply.extra_headers["In-Reply-To"] == "<reply-1@mail.example.org>"
    assert reply.extra_headers["References"] == (
        "<plain-1@mail.example.org> <question.1@stories.example.org> <reply-1@mail.example.org>"
    )
    assert "Materials lab" not in question.text


def test_a_forwarded_thread_keeps_the_senders_own_words_and_not_the_forwarded_mail(library):
    question = assert_stored(
        "forwarded.eml",
        "Pumps corroding again\n\nHas anyone stopped corrosion on cooling pumps for good? See below.",
    )

    assert "budget" not in question.text


def test_attachments_are_never_stored(library):
    assert_stored("attachment.eml", "Pump photos\n\nWho knows why the cooling pumps corrode? Notes attached.")


def test_a_huge_attachment_does_not_stop_the_question(library):
    message = EmailMessage()
    message["From"] = "Lena Berg <lena@example.org>"
    message["To"] = "storybank@stories.example.org"
    message["Subject"] = "Pump drawings"
    message["Message-ID"] = "<huge-1@mail.example.org>"
    message.set_content("Who has drawings of the old cooling pumps?")
    message.add_attachment(
        bytes(range(256)) * 40_000, maintype="application", subtype="pdf", filename="pumps.pdf"
    )
    raw = message.as_bytes()
    assert len(raw) > 10_000_000

    assert receive(raw) == f"question stored #{Question.objects.get().pk} from lena@example.org; replied"
    assert Question.objects.get().text == "Pump drawings\n\nWho has drawings of the old cooling pumps?"


def test_a_long_mail_is_cut_to_a_question_and_the_reply_says_so(library):
    message = EmailMessage()
    message["From"] = "lena@example.org"
    message["Subject"] = "Pumps"
    message["Message-ID"] = "<long-1@mail.example.org>"
    message.set_content("Who knows pumps? " + "More detail about the pumps. " * 40)

    outcome = receive_message(message.as_bytes())

    assert outcome.received is Received.STORED
    assert outcome.truncated is True
    assert len(outcome.question.text) == MAX_QUESTION_LENGTH
    assert outcome.question.text.startswith("Pumps\n\nWho knows pumps? More detail about the pumps.")
    assert outcome.question.text.endswith("…")
    [reply] = replies_to("lena@example.org")
    assert f"longer than a question may be ({MAX_QUESTION_LENGTH} characters)" in reply.body


@pytest.mark.parametrize("name", ["auto_reply.eml", "outlook_auto_reply.eml", "bounce.eml", "list_mail.eml"])
def test_automatic_mail_is_ignored_without_a_word(library, name):
    assert_ignored(
        name, "ignored: automatic mail (auto-reply, bounce or list)" + _from_of(name) + "; no reply"
    )


def _from_of(name: str) -> str:
    return " from mailer-daemon@mail.example.org" if name == "bounce.eml" else " from lena@example.org"


def test_storybanks_own_reply_coming_back_is_ignored(library):
    receive(eml("plain.eml"))
    [reply] = replies_to("lena@example.org")
    mail.outbox.clear()

    outcome = receive_message(reply.message().as_bytes())

    assert outcome.received is Received.AUTOMATIC
    assert Question.objects.count() == 1
    assert mail.outbox == []


def test_mbox_envelope_from_mailer_daemon_is_a_bounce(library):
    raw = b"From MAILER-DAEMON Tue Dec  1 12:00:00 2026\n" + eml("plain.eml")

    assert receive_message(raw).received is Received.AUTOMATIC
    assert Question.objects.count() == 0


def test_unknown_colleague_address_gets_one_polite_reply_a_day_and_nothing_is_stored(library):
    line = receive(eml("unknown_sender.eml"))

    assert line == "refused: the sender is no colleague from sam.stranger@example.org; replied"
    assert Question.objects.count() == 0
    [reply] = mail.outbox
    assert reply.to == ["sam.stranger@example.org"]
    assert reply.subject == "Re: How do I stop pump corrosion?"
    assert reply.extra_headers["Auto-Submitted"] == "auto-replied"
    assert "We could not match your address" in reply.body
    assert f"{SITE}/ask/" in reply.body

    second = eml("unknown_sender.eml").replace(b"<unknown-1@", b"<unknown-2@")
    assert receive(second) == "refused: the sender is no colleague from sam.stranger@example.org; no reply"
    assert len(mail.outbox) == 1
    assert Question.objects.count() == 0


def test_without_allowed_domains_a_domain_with_no_active_colleague_gets_no_reply(library, asker):
    asker.is_active = False
    asker.save()

    assert_ignored("plain.eml", "refused: the sender's domain is not allowed from lena@example.org; no reply")


def test_an_address_outside_the_colleagues_domains_gets_no_reply(library):
    assert_ignored(
        "outside_domain.eml",
        "refused: the sender's domain is not allowed from deals@elsewhere.example; no reply",
    )


def test_a_colleagues_name_on_an_outside_address_is_refused_without_reply(library):
    assert_ignored(
        "forged_sender.eml",
        "refused: the sender's domain is not allowed from lena.berg@mail.elsewhere.example; no reply",
    )


def test_a_from_with_two_readings_is_never_taken_for_the_colleague(library):
    assert_ignored("forged_bare_display_name.eml", "ignored: no single sender address; no reply")


def test_allowed_domains_setting_refuses_other_domains_even_of_known_colleagues(library, settings):
    settings.QUESTIONS_ALLOWED_DOMAINS = "example.com"

    assert_ignored("plain.eml", "refused: the sender's domain is not allowed from lena@example.org; no reply")


def test_allowed_domains_setting_is_a_comma_separated_list_in_any_case(library, settings):
    settings.QUESTIONS_ALLOWED_DOMAINS = "example.com, Example.ORG"

    assert receive_message(eml("plain.eml")).received is Received.STORED


def test_an_address_of_a_directory_entry_linked_to_an_account_asks_as_that_account(library):
    theo = UserFactory(username="theo", email="theo@example.org")
    PersonFactory(name="Theo Linked", slug="theo-linked", email="t.linked@example.org", user=theo)
    raw = eml("plain.eml").replace(b"Lena Berg <Lena@Example.ORG>", b"<T.Linked@example.org>")

    outcome = receive_message(raw)

    assert outcome.received is Received.STORED
    assert outcome.question.asker == theo
    assert len(replies_to("t.linked@example.org")) == 1


def test_an_inactive_account_is_no_colleague(library, asker, settings):
    settings.QUESTIONS_ALLOWED_DOMAINS = "example.org"
    asker.is_active = False
    asker.save()

    outcome = receive_message(eml("plain.eml"))

    assert outcome.received is Received.UNKNOWN_SENDER
    assert Question.objects.count() == 0
    assert [reply.to for reply in mail.outbox] == [["lena@example.org"]]


def test_a_reply_with_nothing_of_the_senders_own_is_not_posted(library):
    line = receive(eml("quoted_only.eml"))

    assert line == "refused: no question in the message from lena@example.org; replied"
    assert Question.objects.count() == 0
    [reply] = mail.outbox
    assert "we found no question in it" in reply.body


def test_database_unavailable_is_a_temporary_failure_for_the_mta_to_retry(tmp_path):
    """As the MTA runs it: a process of its own, here with a database server that is not there."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=f"postgres://storybank@127.0.0.1:{free_port()}/storybank",
        STORYBANK_VAR_DIR=str(tmp_path / "var"),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "receive_email"],
        cwd=settings.BASE_DIR,
        env=env,
        input=eml("plain.eml"),
        capture_output=True,
        timeout=120,
    )

    assert result.returncode == 75, result.stderr.decode()[-2000:]


def test_nul_and_control_characters_are_dropped_not_a_database_error(library):
    message = EmailMessage()
    message["From"] = "lena@example.org"
    message["To"] = "storybank@stories.example.org"
    message["Subject"] = "Pumps\x07 again"
    message["Message-ID"] = "<nul-1@mail.example.org>"
    message.set_content("Who knows\x00 how to stop corrosion on the cooling pumps?", cte="base64")

    outcome = receive_message(message.as_bytes())

    assert outcome.received is Received.STORED
    assert (
        Question.objects.get().text == "Pumps again\n\nWho knows how to stop corrosion on the cooling pumps?"
    )


def test_a_reply_to_a_notice_is_no_new_question_and_gets_one_pointer_a_day(library):
    receive(eml("plain.eml"))
    [received] = replies_to("lena@example.org")
    mail.outbox.clear()

    def thanks(number: int) -> bytes:
        reply = EmailMessage()
        reply["From"] = "lena@example.org"
        reply["To"] = "storybank@stories.example.org"
        reply["Subject"] = f"Re: {received.subject}"
        reply["Message-ID"] = f"<thanks-{number}@mail.example.org>"
        reply["In-Reply-To"] = received.extra_headers["Message-ID"]
        reply.set_content("Thanks a lot!")
        return reply.as_bytes()

    first, second = receive_message(thanks(1)), receive_message(thanks(2))

    assert (first.received, first.replied) == (Received.NOTICE_REPLY, True)
    assert (second.received, second.replied) == (Received.NOTICE_REPLY, False)
    assert Question.objects.count() == 1
    [pointer] = mail.outbox
    assert "Replies to Storybank's notices are not read by anyone" in pointer.body


def test_every_email_storybank_sends_says_it_is_automatic(library):
    receive(eml("plain.eml"))

    for message in mail.outbox:
        assert message.extra_headers["Auto-Submitted"] in ("auto-generated", "auto-replied"), message.subject
        assert message.extra_headers["X-Auto-Response-Suppress"] == "All", message.subject
    routing = [message for message in mail.outbox if "asks:" in message.subject]
    assert routing and all(message.extra_headers["Auto-Submitted"] == "auto-generated" for message in routing)
