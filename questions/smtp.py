"""A local SMTP listener for questions by e-mail: any mail client (or swaks) can send one to it.

For local use, as `make run` starts it (settings.QUESTIONS_SMTP_LISTEN): no TLS, no
authentication, and only mail to the library's address (QUESTIONS_EMAIL_ADDRESS) is taken. Each
message goes to `questions.mail.receive_message`, the one way mail comes in; when the database is
unavailable the sender is told to try again later (451), so a sending MTA keeps the message.
"""

from __future__ import annotations

import asyncio
import logging
from email.utils import parseaddr

from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections, connections

from questions.mail import DATABASE_OUTAGES, MAX_MESSAGE_BYTES, receive_message

logger = logging.getLogger(__name__)


def library_address() -> str:
    """The bare address of settings.QUESTIONS_EMAIL_ADDRESS ("Storybank <a@b>" → "a@b"), lower-cased."""
    return parseaddr(settings.QUESTIONS_EMAIL_ADDRESS)[1].lower()


def listen_address(value: str) -> tuple[str, int]:
    """`host:port` (or `[ipv6]:port`) as a (host, port) pair; ImproperlyConfigured when malformed."""
    host, separator, port = value.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not separator or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ImproperlyConfigured(f"{value!r} is not an address to listen on (expected host:port).")
    return host, int(port)


def _receive(raw: bytes) -> str:
    """Receive one message in a worker thread, with a database connection of that thread's own."""
    close_old_connections()
    try:
        return str(receive_message(raw))
    finally:
        connections.close_all()


class QuestionMailHandler:
    """aiosmtpd handler: mail to the library's address becomes a question, anything else is refused."""

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options: list[str]) -> str:
        expected = library_address()
        if address.lower() != expected:
            return f"550 5.1.1 <{address}>: no such mailbox here; send questions to <{expected}>"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        # The Return-Path a delivering MTA adds (RFC 5321 4.4): it tells bounces (MAIL FROM:<>)
        # apart from questions.
        return_path = f"Return-Path: <{(envelope.mail_from or '').strip('<>')}>\r\n".encode()
        try:
            line = await asyncio.to_thread(_receive, return_path + envelope.original_content)
        except DATABASE_OUTAGES:
            logger.exception(
                "Question by e-mail from %s not stored; the sender is asked to retry", envelope.mail_from
            )
            return "451 4.3.0 Storybank cannot store mail just now; try again later"
        except Exception:
            # This message's own fault: retrying it would fail the same way.
            logger.exception("Mail from %s could not be read; refused", envelope.mail_from)
            return "554 5.6.0 Storybank could not read this message; nothing was stored"
        return f"250 2.0.0 {line}"


def start_listener(host: str, port: int) -> Controller:
    """The listener, started in a thread of its own; call `.stop()` on it when done."""
    controller = Controller(
        QuestionMailHandler(),
        hostname=host,
        port=port,
        data_size_limit=MAX_MESSAGE_BYTES,
        enable_SMTPUTF8=True,
        ident="Storybank questions",
    )
    controller.start()
    return controller
