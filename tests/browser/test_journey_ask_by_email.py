"""Journey 6, ask by e-mail: a question mailed to the local listener is posted and routed; the asker
is told it moved to the network; a colleague's reply to the routing e-mail becomes an answer, which
the asker accepts on the question's page."""

import email
import email.policy
import re
import smtplib
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser_harness import ADMIN, STAFF, axe_violations, open_page, sign_in, snap

pytestmark = pytest.mark.browser

LIBRARY_ADDRESS = "storybank@localhost"  # QUESTIONS_EMAIL_ADDRESS's default: DEFAULT_FROM_EMAIL
QUESTION = "How did someone get a question answered that sat in an inbox for a week?"
ANSWER = "Post it on the network instead of waiting: Amira answered mine there within the hour."


def sent_mail(folder: Path) -> list[EmailMessage]:
    """The e-mails Storybank sent, read back from the file backend's folder (one or more per file)."""
    messages = []
    for path in sorted(folder.glob("*.log")) if folder.exists() else []:
        for chunk in path.read_bytes().split(b"-" * 79):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk.lstrip(), policy=email.policy.default))
    return messages


def wait_for_mail(folder: Path, matches, timeout: float = 30) -> EmailMessage:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [message for message in sent_mail(folder) if matches(message)]
        if found:
            return found[-1]
        time.sleep(0.3)
    raise AssertionError(f"No such e-mail was sent; sent: {[m['Subject'] for m in sent_mail(folder)]}")


def connect(port: int, timeout: float = 60) -> smtplib.SMTP:
    """The listener starts beside the web server: wait for it as a mail program would retry."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return smtplib.SMTP("127.0.0.1", port, timeout=60)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def send(port: int, message: EmailMessage) -> tuple[int, str]:
    """Hand a message to the listener as a mail program would; the listener's answer to DATA."""
    with connect(port) as client:
        client.ehlo()
        client.mail(message["From"])
        code, _ = client.rcpt(message["To"])
        assert code == 250
        code, reply = client.data(message.as_bytes(policy=email.policy.SMTP))  # CRLF line ends
    return code, reply.decode()


def test_a_question_mailed_in_is_posted_and_a_reply_to_its_routing_email_becomes_the_answer(
    chromium, request, artifacts, live_storybank
):
    outbox = live_storybank.directory / "sent-mail"
    staff_address = f"{STAFF[0]}@example.org"  # setup_storybank's accounts have <username>@example.org

    question_mail = EmailMessage()
    question_mail["From"] = f"Staff <{staff_address}>"
    question_mail["To"] = LIBRARY_ADDRESS
    question_mail["Subject"] = QUESTION
    question_mail["Message-ID"] = "<journey-question@mail.example.org>"
    question_mail.set_content("Thanks!\n\n-- \nStaff, sent from my phone")
    code, reply = send(live_storybank.smtp_port, question_mail)
    assert code == 250, reply
    question_id = int(re.search(r"question stored #(\d+)", reply).group(1))
    question_path = f"/questions/{question_id}/"

    # The asker is told the question moved to the network, with the link and what the library knows.
    moved = wait_for_mail(
        outbox, lambda m: m["To"] == staff_address and "now at" in m.get_body(("plain",)).get_content()
    )
    assert moved["In-Reply-To"] == "<journey-question@mail.example.org>"
    assert moved["Auto-Submitted"] == "auto-replied"
    assert f"{live_storybank.base_url}{question_path}" in moved.get_body(("plain",)).get_content()

    # Someone who knows was e-mailed; a colleague the e-mail reached replies to it.
    routing = wait_for_mail(outbox, lambda m: "storybank-routing." in str(m["Message-ID"]))
    assert routing["Reply-To"] == LIBRARY_ADDRESS
    answer_mail = EmailMessage()
    answer_mail["From"] = f"{ADMIN[0]}@example.org"
    answer_mail["To"] = routing["Reply-To"]
    answer_mail["Subject"] = f"Re: {routing['Subject']}"
    answer_mail["In-Reply-To"] = routing["Message-ID"]
    answer_mail["References"] = routing["Message-ID"]
    quoted = "\n".join(f"> {line}" for line in routing.get_body(("plain",)).get_content().splitlines())
    answer_mail.set_content(f"{ANSWER}\n\nOn Tue, 1 Dec 2026, Storybank wrote:\n{quoted}\n")
    code, reply = send(live_storybank.smtp_port, answer_mail)
    assert code == 250, reply
    assert reply.startswith(f"2.0.0 answer stored #{question_id} from {ADMIN[0]}@example.org")

    # On the web: the question is on the board, the answer on its page without the quoted mail.
    page = open_page(chromium, request, artifacts, base_url=live_storybank.base_url)
    sign_in(page, *STAFF)
    page.goto("/questions/")
    expect(page.locator(f'main a[href="{question_path}"]')).to_contain_text(QUESTION[:30])
    page.goto(question_path)
    expect(page.get_by_role("heading", level=1)).to_contain_text(QUESTION)
    answer = page.locator("li.answer")
    expect(answer).to_have_count(1)
    expect(answer).to_contain_text(ANSWER)
    expect(answer).to_contain_text("by e-mail")
    expect(answer).not_to_contain_text("Storybank wrote")
    snap(page, artifacts, "question-answered-by-email")
    assert axe_violations(page) == []

    # The asker accepts it: the question is answered, by that answer.
    answer.get_by_role("button", name="This answers my question").click()
    expect(page.locator("main")).to_contain_text("Answered by")
    expect(page.locator(".badge", has_text="Answered").first).to_be_visible()
    expect(page.locator("li.answer")).to_contain_text("Accepted answer")
