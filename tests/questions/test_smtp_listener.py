"""Questions through the local SMTP listener: real messages sent with smtplib to a real listener."""

from __future__ import annotations

import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail

from questions.mail import MAX_MESSAGE_BYTES
from questions.models import Question
from questions.smtp import start_listener
from tests.processes import free_port, wait_for

MAIL = Path(__file__).parent / "mail"
LIBRARY_ADDRESS = "storybank@stories.example.org"
# Messages are received in threads of their own: the test data is committed for them to read.
RECEIVED_IN_THREADS = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def library(corrosion_library, asker, settings):
    settings.DEFAULT_FROM_EMAIL = f"Storybank <{LIBRARY_ADDRESS}>"
    settings.QUESTIONS_ALLOWED_DOMAINS = ""
    return corrosion_library


@pytest.fixture
def listener(settings):
    """A listener on a free port, in this process (tests that store a question take `library` too)."""
    settings.QUESTIONS_EMAIL_ADDRESS = f"Storybank questions <{LIBRARY_ADDRESS}>"
    port = free_port()
    controller = start_listener("127.0.0.1", port)
    yield port
    controller.stop()


def connect(port: int) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", port, timeout=60)
    client.ehlo("mail.example.org")
    return client


def on_the_wire(raw: bytes) -> bytes:
    """The message with CRLF line ends, as a mail client sends it (smtplib sends bytes unchanged)."""
    return re.sub(rb"\r?\n", b"\r\n", raw)


def send(port: int, raw: bytes, *, sender: str = "lena@example.org") -> tuple[int, str]:
    """MAIL FROM, RCPT TO the library, DATA: the listener's answer to the DATA."""
    with connect(port) as client:
        assert client.mail(sender)[0] == 250
        assert client.rcpt(LIBRARY_ADDRESS)[0] == 250
        code, reply = client.data(on_the_wire(raw))
    return code, reply.decode()


@RECEIVED_IN_THREADS
def test_a_colleagues_question_is_stored_and_answered_with_the_outcome_in_the_smtp_reply(library, listener):
    code, reply = send(listener, (MAIL / "plain.eml").read_bytes())

    question = Question.objects.get()
    assert (code, reply) == (250, f"2.0.0 question stored #{question.pk} from lena@example.org; replied")
    assert (
        question.text
        == "Corrosion on the cooling pumps\n\nWho knows how to stop corrosion on the cooling pumps?"
    )
    assert question.asker.username == "lena"
    [reply_mail] = [message for message in mail.outbox if message.to == ["lena@example.org"]]
    assert reply_mail.subject == "Re: Corrosion on the cooling pumps"
    assert reply_mail.extra_headers["In-Reply-To"] == "<plain-1@mail.example.org>"


def test_the_library_address_is_taken_in_any_case(listener):
    with connect(listener) as client:
        client.mail("lena@example.org")
        assert client.rcpt("StoryBank@Stories.Example.ORG") == (250, b"2.1.5 OK")


@pytest.mark.django_db
def test_mail_to_another_address_is_refused_naming_the_librarys(listener):
    with connect(listener) as client:
        client.mail("lena@example.org")
        refused = client.rcpt("kim@example.org")
        with pytest.raises(smtplib.SMTPDataError) as no_message:
            client.data(on_the_wire((MAIL / "plain.eml").read_bytes()))

    assert refused == (
        550,
        f"5.1.1 <kim@example.org>: no such mailbox here; send questions to <{LIBRARY_ADDRESS}>".encode(),
    )
    assert no_message.value.smtp_code == 503  # no recipient was taken: there is no message to send
    assert Question.objects.count() == 0


def test_a_message_declared_larger_than_the_limit_is_refused_before_it_is_sent(listener):
    with connect(listener) as client:
        code, _ = client.mail("lena@example.org", [f"SIZE={MAX_MESSAGE_BYTES + 1}"])

    assert code == 552


@pytest.mark.django_db
def test_a_message_larger_than_the_limit_is_refused_after_it_is_sent_and_nothing_is_stored(listener):
    head = (MAIL / "plain.eml").read_bytes()
    line = b"More about the pumps, line after line of it. " * 20 + b"\n"  # 901 bytes, within SMTP's 1000
    raw = head + line * (MAX_MESSAGE_BYTES // len(line) + 1)
    assert len(raw) > MAX_MESSAGE_BYTES

    code, reply = send(listener, raw)

    assert (code, reply) == (552, "Error: Too much mail data")
    assert Question.objects.count() == 0
    assert mail.outbox == []


@RECEIVED_IN_THREADS
def test_a_bounce_to_the_library_is_ignored_without_a_word(library, listener):
    code, reply = send(listener, (MAIL / "plain.eml").read_bytes(), sender="")

    assert (code, reply) == (
        250,
        "2.0.0 ignored: automatic mail (auto-reply, bounce or list) from lena@example.org; no reply",
    )
    assert Question.objects.count() == 0
    assert mail.outbox == []


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_database_unavailable_asks_the_sender_to_try_again_later(tmp_path):
    """`manage.py listen_email` as `make run` starts it, here with a database server that is not there."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=f"postgres://storybank@127.0.0.1:{free_port()}/storybank",
        STORYBANK_VAR_DIR=str(tmp_path / "var"),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        QUESTIONS_EMAIL_ADDRESS=LIBRARY_ADDRESS,
    )
    port = free_port()
    listener = subprocess.Popen(
        [sys.executable, "manage.py", "listen_email", "--listen", f"127.0.0.1:{port}"],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: listener.poll() is not None or _listening(port), 60, "the listener never listened")
        assert listener.poll() is None, listener.communicate()[1].decode()[-2000:]

        first = send(port, (MAIL / "plain.eml").read_bytes())
        again = send(port, (MAIL / "plain.eml").read_bytes())  # the sender's retry: still there to answer
    finally:
        listener.send_signal(signal.SIGTERM)
        stdout, stderr = listener.communicate(timeout=30)

    assert first == (451, "4.3.0 Storybank cannot store mail just now; try again later")
    assert again == first
    assert listener.returncode == 0, stderr.decode()[-2000:]
    assert stdout.decode() == f"Listening on smtp://127.0.0.1:{port} for questions to {LIBRARY_ADDRESS}.\n"
