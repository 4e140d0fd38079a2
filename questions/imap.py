"""Questions by e-mail from an IMAP mailbox the worker polls (settings.QUESTIONS_IMAP_URL).

Each message goes to `questions.mail.receive_message`, and only once that has returned is it
moved to QUESTIONS_IMAP_PROCESSED_FOLDER: nothing leaves the inbox before it is stored. A
database error stops the round and leaves that message, and the ones after it, for the next;
a message stored but not yet moved is recognised as a redelivery then, and moved.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
import time
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from questions.mail import DATABASE_OUTAGES, MAX_MESSAGE_BYTES, Outcome, Received, receive_message
from storybank.redaction import redact_credentials

DEFAULT_PORTS = {"imaps": 993, "imap": 143}
CONNECT_TIMEOUT_SECONDS = 30
# A message that cannot be read (not the database being away) is moved here for a person to look at.
FAILED_FOLDER = "Failed"
# What a round can fail on besides the database: the network, TLS, and the server's refusals.
CONNECTION_ERRORS = (OSError, imaplib.IMAP4.error)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MailboxAddress:
    """Where the questions' mailbox is, read from an imaps://user:password@host:port/MAILBOX URL."""

    scheme: str
    host: str
    port: int
    username: str
    password: str = ""
    mailbox: str = "INBOX"

    @classmethod
    def from_url(cls, url: str) -> MailboxAddress:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS or not parts.hostname or not parts.username:
            raise ImproperlyConfigured(
                f"QUESTIONS_IMAP_URL={redact_credentials(url)!r} is not imaps://user:password@host:port/MAILBOX."
            )
        return cls(
            scheme=scheme,
            host=parts.hostname,
            port=parts.port or DEFAULT_PORTS[scheme],
            username=unquote(parts.username),
            password=unquote(parts.password or ""),
            mailbox=unquote(parts.path.strip("/")) or "INBOX",
        )


def poll_mailbox(url: str | None = None, *, ssl_context: ssl.SSLContext | None = None) -> list[Outcome]:
    """Receive every message in the mailbox, moving each to the Processed folder once it is handled.

    `ssl_context` defaults to one that verifies the server against the system's certificates.
    Raises DatabaseError (the message stays in the inbox) and the CONNECTION_ERRORS.
    """
    address = MailboxAddress.from_url(url or settings.QUESTIONS_IMAP_URL or "")
    processed = _quoted(settings.QUESTIONS_IMAP_PROCESSED_FOLDER)
    failed = _quoted(FAILED_FOLDER)
    outcomes = []
    with _session(address, ssl_context or ssl.create_default_context()) as imap:
        _checked(imap.select(_quoted(address.mailbox)), f"select {address.mailbox}")
        uids = _checked(imap.uid("SEARCH", "UNDELETED"), "search")[0].split()
        if not uids:
            return outcomes
        capabilities = set(_checked(imap.capability(), "capability")[0].upper().split())
        _ensure_folder(imap, processed)
        for uid in uids:
            raw = _message_bytes(imap, uid)
            if raw is None:
                continue  # gone since the search: another poller took it
            try:
                outcome = receive_message(raw)
            except DATABASE_OUTAGES:
                raise  # the database is away: this message and the rest wait in the inbox
            except Exception:
                # This message's own fault (retrying would block every message after it).
                logger.exception("Mail in %s (uid %s) could not be read", address.mailbox, uid.decode())
                _ensure_folder(imap, failed)
                _move(imap, uid, failed, capabilities)
                outcomes.append(Outcome(Received.FAILED))
                continue
            logger.info("Mail in %s (uid %s): %s", address.mailbox, uid.decode(), outcome)
            _move(imap, uid, processed, capabilities)
            outcomes.append(outcome)
    return outcomes


_last_poll_at: float | None = None


def poll_when_due() -> None:
    """The worker's housekeeping job: poll at most every QUESTIONS_IMAP_POLL_SECONDS in this process.

    Does nothing at all (no network, no query) while QUESTIONS_IMAP_URL is unset. A failed round
    is logged, with the password masked, and tried again when the next one is due.
    """
    global _last_poll_at
    url = settings.QUESTIONS_IMAP_URL
    if not url:
        return
    now = time.monotonic()
    if _last_poll_at is not None and now - _last_poll_at < settings.QUESTIONS_IMAP_POLL_SECONDS:
        return
    _last_poll_at = now
    try:
        poll_mailbox(url)
    except CONNECTION_ERRORS as error:
        logger.warning("Could not poll %s for questions: %s", redact_credentials(url), describe_error(error))
    except DATABASE_OUTAGES as error:
        logger.warning("Questions by e-mail wait in their mailbox until the database is back: %s", error)


def describe_error(error: Exception) -> str:
    """The reason a round failed, for a log line: the server's words as text, any URL's password masked."""
    reason = error.args[0] if isinstance(error, imaplib.IMAP4.error) and error.args else error
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", errors="replace")
    return redact_credentials(str(reason))


@contextmanager
def _session(address: MailboxAddress, context: ssl.SSLContext):
    if address.scheme == "imaps":
        imap = imaplib.IMAP4_SSL(
            address.host, address.port, ssl_context=context, timeout=CONNECT_TIMEOUT_SECONDS
        )
    else:
        imap = imaplib.IMAP4(address.host, address.port, timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        if address.scheme == "imap":
            imap.starttls(context)  # a password never crosses the network in the clear
        imap.login(address.username, address.password)
        yield imap
    finally:
        try:
            imap.logout()
        except CONNECTION_ERRORS:
            pass  # the connection is gone already


def _quoted(name: str) -> str:
    """An IMAP quoted string (imaplib sends mailbox names as they are given)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _checked(response: tuple[str, list], doing: str) -> list:
    status, data = response
    if status != "OK":
        raise imaplib.IMAP4.error(f"{doing} refused: {data!r}")
    return data


def _ensure_folder(imap: imaplib.IMAP4, folder: str) -> None:
    if any(_checked(imap.list('""', folder), "list")):
        return
    _checked(imap.create(folder), f"create {folder}")


def _message_bytes(imap: imaplib.IMAP4, uid: bytes) -> bytes | None:
    """The message, up to MAX_MESSAGE_BYTES (as the pipe reads it), without marking it seen."""
    data = _checked(imap.uid("FETCH", uid, f"(BODY.PEEK[]<0.{MAX_MESSAGE_BYTES}>)"), "fetch")
    for item in data:
        if isinstance(item, tuple) and b"BODY[]" in item[0]:
            return item[1]
    return None


def _move(imap: imaplib.IMAP4, uid: bytes, folder: str, capabilities: set[bytes]) -> None:
    if b"MOVE" in capabilities:
        _checked(imap.uid("MOVE", uid, folder), "move")
        return
    _checked(imap.uid("COPY", uid, folder), "copy")
    _checked(imap.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"), "flag as deleted")
    # Without UIDPLUS only a plain EXPUNGE exists; it removes only messages flagged \Deleted.
    _checked(imap.uid("EXPUNGE", uid) if b"UIDPLUS" in capabilities else imap.expunge(), "expunge")
