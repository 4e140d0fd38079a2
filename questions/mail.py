"""Questions that arrive by e-mail: one RFC 822 message in, a stored question (or a refusal) out.

Every way mail comes in (the `receive_email` pipe, an IMAP poller, a local SMTP listener) hands
the raw bytes to `receive_message`. Automatic mail (auto-replies, bounces, lists) is ignored
without a word, and every reply sent from here carries `Auto-Submitted: auto-replied` (RFC 3834)
and `X-Auto-Response-Suppress: All`, so Storybank and an auto-responder can never write to each
other in a loop.
"""

from __future__ import annotations

import email
import email.policy
import enum
import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage as ParsedMessage
from email.utils import getaddresses, parseaddr

from bs4 import BeautifulSoup
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.urls import reverse
from django.utils import timezone
from mailparser_reply.parser import EmailMessage as ReplyText

from questions.asking import AnswerRefused, RoutedPerson, post_question, suggest_answers, write_answer
from questions.curation import end_of_merges
from questions.models import (
    MAX_ANSWER_LENGTH,
    MAX_QUESTION_LENGTH,
    HandledMail,
    Question,
    QuestionRouting,
    QuestionSource,
)
from questions.notifications import (
    absolute_url,
    notice_message_id,
    notify_of_written_answer,
    notify_routed_people,
    replies_to_a_notice,
    routing_replied_to,
    send_email,
)
from questions.visibility import visible_questions
from stories.models import Person

# An MTA hands over whatever it accepted; more than this is read and dropped, never kept.
MAX_MESSAGE_BYTES = 30 * 1024 * 1024
# The text of a message considered for a question (before quotes and signatures are cut).
MAX_TEXT_CHARS = 1024 * 1024
STORIES_IN_REPLY = 5
# The same message delivered twice (an MTA retry, two aliases) within this time stores one question.
DUPLICATE_WINDOW_SECONDS = 7 * 24 * 60 * 60
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl"]
EMPTY_ANSWER = "Your reply had no words of your own above the quoted e-mail, so nothing was posted."
# The database cannot be reached: the message is kept for later (451, exit 75, left in the inbox).
# Any other error is this message's own (a NUL byte, say), and retrying it would block the rest.
DATABASE_OUTAGES = (OperationalError, InterfaceError)
# Characters no text column takes (PostgreSQL refuses NUL) and no question needs.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

AUTOMATIC_SENDERS = {"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply"}
BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|tr|sv|vs)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
FORWARD_MARKER = re.compile(
    r"\n*^[-\s]*(forwarded message|original message|begin forwarded message:?)[-\s]*\Z",
    re.IGNORECASE | re.MULTILINE,
)
BLOCK_TAGS = ["p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre"]

logger = logging.getLogger(__name__)


class Received(enum.Enum):
    """What became of one e-mail; the value is the line `receive_email` prints."""

    STORED = "question stored"
    NOTICE_REPLY = "ignored: a reply to one of Storybank's notices"
    FAILED = "failed: could not be read, kept aside for a person to look at"
    ANSWER_STORED = "answer stored"
    ANSWER_REFUSED = "refused: the question takes no more answers"
    DUPLICATE = "already received: nothing stored twice"
    AUTOMATIC = "ignored: automatic mail (auto-reply, bounce or list)"
    UNKNOWN_SENDER = "refused: the sender is no colleague"
    OUTSIDE_DOMAIN = "refused: the sender's domain is not allowed"
    NO_SENDER = "ignored: no single sender address"
    EMPTY = "refused: no question in the message"


@dataclass
class Outcome:
    """What `receive_message` did with one e-mail, and the question when one was stored."""

    received: Received
    sender: str = ""
    question: Question | None = None
    routed: list[RoutedPerson] = field(default_factory=list)
    replied: bool = False
    truncated: bool = False

    def __str__(self) -> str:
        line = self.received.value
        if self.question is not None:
            line += f" #{self.question.pk}"
        if self.sender:
            line += f" from {self.sender}"
        return line + ("; replied" if self.replied else "; no reply")


def receive_message(raw: bytes) -> Outcome:
    """Store the question (or the answer) in one e-mail from a colleague and reply; refuse or ignore the rest.

    A reply to a routing e-mail (its In-Reply-To or References name a routing we signed) is an
    answer to that question; anything else is a new question. A database error propagates: the
    caller tells the MTA to try again later, and nothing is lost.
    """
    message = email.message_from_bytes(raw[:MAX_MESSAGE_BYTES], policy=email.policy.default)
    if is_automatic(message):
        return Outcome(Received.AUTOMATIC, sender_address(message))
    sender = sender_address(message)
    if not sender:
        return Outcome(Received.NO_SENDER)
    if not domain_allowed(sender):
        # No reply: the From of mail from outside is easily forged, and answering it would send
        # our mail to whoever was impersonated (backscatter).
        logger.info("Question by e-mail from %s refused: domain not allowed", sender)
        return Outcome(Received.OUTSIDE_DOMAIN, sender)
    user = user_with_address(sender)
    if user is None:
        replied = _reply_once_a_day(message, sender, "unknown_sender")
        return Outcome(Received.UNKNOWN_SENDER, sender, replied=replied)
    thread = [str(message.get(name, "")) for name in ("In-Reply-To", "References")]
    routing_id = routing_replied_to(thread)
    if routing_id is not None:
        return receive_answer(message, sender, user, routing_id)
    if replies_to_a_notice(thread):
        # "Thanks!" to "New answer: …" is no new question: say where answers go, once a day.
        replied = _reply_once_a_day(message, sender, "notice_reply")
        return Outcome(Received.NOTICE_REPLY, sender, replied=replied)
    text = question_text(message)
    if not text:
        replied = _reply_once_a_day(message, sender, "empty")
        return Outcome(Received.EMPTY, sender, replied=replied)
    truncated = len(text) > MAX_QUESTION_LENGTH
    if truncated:
        text = text[: MAX_QUESTION_LENGTH - 1].rstrip() + "…"
    if _asked_lately(text, user):
        return Outcome(Received.DUPLICATE, sender)
    key = _duplicate_key(message, sender)
    try:
        question, routed = post_question(
            text,
            user,
            source=QuestionSource.EMAIL,
            before_routing=lambda question: HandledMail.objects.create(key=key, question=question),
        )
    except IntegrityError:
        # Another process stored this message a moment ago (the key is unique); the question
        # it was part of was rolled back here.
        return Outcome(Received.DUPLICATE, sender)
    notify_routed_people(question, routed)
    replied = _send_reply(
        message,
        sender,
        "received",
        {
            "question": question,
            "question_url": absolute_url(question.get_absolute_url()),
            "stories": _suggested_stories(text, user),
            "routed": [routed_person.routing.person for routed_person in routed],
            "truncated": truncated,
            "max_length": MAX_QUESTION_LENGTH,
            "board_url": absolute_url(reverse("questions:board")),
        },
    )
    return Outcome(Received.STORED, sender, question, routed, replied, truncated)


def receive_answer(message: ParsedMessage, sender: str, user, routing_id: int) -> Outcome:
    """A reply to a routing e-mail: the sender's own words become an answer on the question.

    The sender need not be the person it was routed to (a colleague it was forwarded to may
    answer), but must be one who may see the question.
    """
    routing = QuestionRouting.objects.select_related("question__asker").filter(pk=routing_id).first()
    # A routing left on a question merged into another answers the one it was merged into.
    question = end_of_merges(routing.question) if routing is not None else None
    if question is None or not visible_questions(user).filter(pk=question.pk).exists():
        replied = _reply_once_a_day(message, sender, "unknown_sender")
        return Outcome(Received.UNKNOWN_SENDER, sender, replied=replied)
    text = own_words(body_text(message))
    context = {"question": question, "question_url": absolute_url(question.get_absolute_url())}
    if not text:
        replied = _send_reply(message, sender, "answer_refused", {**context, "reason": EMPTY_ANSWER})
        return Outcome(Received.EMPTY, sender, question, replied=replied)
    truncated = len(text) > MAX_ANSWER_LENGTH
    if truncated:
        text = text[: MAX_ANSWER_LENGTH - 1].rstrip() + "…"
    key = _duplicate_key(message, sender)
    try:
        with transaction.atomic():
            HandledMail.objects.create(key=key, question=question)
            answer = write_answer(question, text, user, source=QuestionSource.EMAIL)
    except IntegrityError:
        return Outcome(Received.DUPLICATE, sender, question)
    except AnswerRefused as refusal:
        replied = _send_reply(message, sender, "answer_refused", {**context, "reason": refusal.reason})
        return Outcome(Received.ANSWER_REFUSED, sender, question, replied=replied)
    notify_of_written_answer(question, answer)
    replied = _send_reply(
        message, sender, "answer_received", {**context, "answer": answer, "truncated": truncated}
    )
    return Outcome(Received.ANSWER_STORED, sender, question, replied=replied, truncated=truncated)


def is_automatic(message: ParsedMessage) -> bool:
    """Auto-replies, bounces, delivery reports and list mail: never a question, never answered."""
    auto_submitted = str(message.get("Auto-Submitted", "no")).split(";")[0].strip().lower()
    if auto_submitted != "no":
        return True
    if str(message.get("Precedence", "")).strip().lower() in BULK_PRECEDENCE:
        return True
    for header in ("X-Auto-Response-Suppress", "List-Id", "List-Unsubscribe", "X-Autoreply", "X-Autorespond"):
        if header in message:
            return True
    if message.get_content_type() == "multipart/report":
        return True
    return_path = str(message.get("Return-Path", "")).strip()
    if return_path in ("<>", "") and "Return-Path" in message:
        return True
    envelope_sender = (message.get_unixfrom() or "").removeprefix("From ").split(" ")[0]
    if envelope_sender in ("<>", "MAILER-DAEMON"):
        return True
    if sender_address(message) == parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower():
        return True  # our own mail, come back
    for header in ("Return-Path", "Sender", "From"):
        local_part = parseaddr(str(message.get(header, "")))[1].split("@")[0].lower()
        if local_part in AUTOMATIC_SENDERS:
            return True
    return False


def sender_address(message: ParsedMessage) -> str:
    """The one From address, lower-cased; "" when there is none, or more than one reading of it.

    A From such as `lena@example.org <someone@elsewhere.example>` is read as Lena by one parser
    and as someone else by another: ambiguity is refused, never resolved in the sender's favour.
    """
    raw_values = [value for name, value in message.raw_items() if name.lower() == "from"]
    if len(raw_values) != 1:
        return ""
    addresses = [address for _, address in getaddresses(raw_values) if address]
    parsed = getattr(message["From"], "addresses", ())
    if len(addresses) != 1 or len(parsed) != 1:
        return ""
    address = parseaddr(raw_values[0])[1].strip().lower()
    if address != addresses[0].lower() or address != parsed[0].addr_spec.lower():
        return ""
    local_part, _, domain = address.rpartition("@")
    if not local_part or not domain or "@" in local_part:
        return ""
    return address


def allowed_domains() -> set[str]:
    """settings.QUESTIONS_ALLOWED_DOMAINS, lower-cased (a list; tests may give a comma-separated string)."""
    configured = settings.QUESTIONS_ALLOWED_DOMAINS
    if isinstance(configured, str):
        configured = configured.split(",")
    return {domain.strip().lower().lstrip("@") for domain in configured if domain.strip()}


def domain_allowed(address: str) -> bool:
    """In QUESTIONS_ALLOWED_DOMAINS (exactly, no subdomains) or, when that is empty, a domain
    some active colleague's address is at."""
    domain = address.rsplit("@", 1)[1]
    allowed = allowed_domains()
    if allowed:
        return domain in allowed
    users = get_user_model().objects.filter(is_active=True)
    at_domain = f"@{domain}"
    return (
        users.filter(email__iendswith=at_domain).exists()
        or Person.objects.filter(user__in=users, email__iendswith=at_domain).exists()
    )


def user_with_address(address: str):
    """The one active account with this address, its own or that of the directory entry linked to it."""
    users = get_user_model().objects.filter(is_active=True)
    owners = list(users.filter(email__iexact=address)[:2])
    if not owners:
        owners = list(users.filter(person__email__iexact=address)[:2])
    # Two accounts sharing an address: which one asks is unknowable, so neither does.
    return owners[0] if len(owners) == 1 else None


def question_text(message: ParsedMessage) -> str:
    """The subject (without Re:/Fwd:) and the sender's own words: no quotes, signature or forward."""
    subject = clean_subject(message)
    body = own_words(body_text(message))
    if subject and body and not body.startswith(subject):
        return f"{subject}\n\n{body}"
    return body or subject


def clean_subject(message: ParsedMessage) -> str:
    subject = " ".join(CONTROL_CHARACTERS.sub(" ", str(message.get("Subject", ""))).split())
    return REPLY_PREFIX.sub("", subject).strip()


def body_text(message: ParsedMessage) -> str:
    """The text/plain body, or the text of the HTML one; attachments are never read."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = CONTROL_CHARACTERS.sub("", _decoded(part)[:MAX_TEXT_CHARS])
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return text


def _decoded(part: ParsedMessage) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError):  # a charset Python does not know, or that lies
        return (part.get_payload(decode=True) or b"").decode("utf-8", errors="replace")


def html_to_text(html: str) -> str:
    """The words of an HTML e-mail, one paragraph a line; quoted mail (blockquote) left out."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["head", "style", "script", "blockquote"]):
        tag.decompose()
    for quote in soup.select(".gmail_quote, #divRplyFwdMsg, #appendonsend"):
        quote.decompose()
    for line_break in soup("br"):
        line_break.replace_with("\n")
    for block in soup(BLOCK_TAGS):
        block.insert_before("\n")
        block.insert_after("\n")
    lines = [" ".join(line.split()) for line in soup.get_text().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def own_words(text: str) -> str:
    """What the sender wrote above the quoted reply or forwarded mail, without their signature."""
    if not text.strip():
        return ""
    replies = ReplyText(text=text, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True).read().replies
    # A first part that starts with a quote header ("On … wrote:") is someone else's words.
    if not replies or replies[0].headers:
        return ""
    words = replies[0].body
    return FORWARD_MARKER.sub("", words).strip()


def _duplicate_key(message: ParsedMessage, sender: str) -> str:
    message_id = str(message.get("Message-ID", "")).strip()
    # Without a Message-ID, the same sender sending the same words is the same message.
    identity = message_id or f"{sender}\n{question_text(message)}"
    return "received:" + hashlib.sha256(identity.encode()).hexdigest()


def _asked_lately(text: str, user) -> bool:
    """The same words from the same colleague lately: a redelivery, even where the cache is per process."""
    since = timezone.now() - timedelta(seconds=DUPLICATE_WINDOW_SECONDS)
    return Question.objects.filter(asker=user, text=text, created_at__gte=since).exists()


def _suggested_stories(text: str, user) -> list[dict]:
    page = suggest_answers(text, user).search
    return [
        {"title": result.story.title, "url": absolute_url(result.story.url)}
        for result in page.results[:STORIES_IN_REPLY]
    ]


def _reply_once_a_day(message: ParsedMessage, sender: str, template: str) -> bool:
    """Send a refusal unless this address was sent one today (by any process: the key is unique)."""
    day = timezone.now().date().isoformat()
    key = f"refused:{day}:" + hashlib.sha256(sender.encode()).hexdigest()
    try:
        with transaction.atomic():
            HandledMail.objects.create(key=key)
    except IntegrityError:
        return False
    return _send_reply(message, sender, template, {"ask_url": absolute_url(reverse("questions:ask"))})


def _send_reply(message: ParsedMessage, to: str, template: str, context: dict) -> bool:
    """Answer `message` in its thread, marked as automatic so no auto-responder answers back."""
    subject = clean_subject(message)
    context = {**context, "subject": subject}
    headers = {
        "Auto-Submitted": "auto-replied",
        "X-Auto-Response-Suppress": "All",
        "Message-ID": notice_message_id(),
    }
    incoming_id = _single_line(message.get("Message-ID", ""))
    if incoming_id.startswith("<") and incoming_id.endswith(">"):
        references = _single_line(message.get("References", ""))
        headers["In-Reply-To"] = incoming_id
        headers["References"] = f"{references} {incoming_id}".strip()[-900:]
    reply_subject = f"Re: {subject}" if subject else "Re: your question to the library"
    return send_email(reply_subject, template, context, to, headers=headers)


def _single_line(value) -> str:
    return " ".join(str(value or "").split())
