"""The e-mails a question sends: to the people it is routed to, and to those waiting for an answer.

A routing e-mail's Message-ID names its routing with a signature (`routing_message_id`): a reply
to it (In-Reply-To / References) is recognised as an answer to that question (`questions.mail`),
and nobody can forge one for a question they were never sent.

Links are built on settings.WAGTAILADMIN_BASE_URL (SITE_URL), never on the Host header a
request brought. A mail server that refuses a message never loses the question: it is stored
first, and a routing says whether its e-mail went out (`notified`).
"""

from __future__ import annotations

import logging
import re
import smtplib
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from questions.asking import RoutedPerson
from questions.models import Answer, Question, QuestionRouting
from stories.models import Person, StoryPage

ROUTING_OPT_OUT_SALT = "questions.routing-opt-out"
ROUTING_MESSAGE_SALT = "questions.routing-message-id"
ROUTING_MESSAGE_ID = re.compile(r"<storybank-routing\.(\d{1,18})\.([0-9a-f]{32})@[^<>\s]+>")

logger = logging.getLogger(__name__)


def absolute_url(path: str) -> str:
    return urljoin(settings.WAGTAILADMIN_BASE_URL.rstrip("/") + "/", path)


def asker_first_name(question: Question) -> str:
    if question.asker is None:
        return "A colleague"
    return question.asker.first_name.strip() or question.asker.get_username()


def routing_opt_out_token(person: Person) -> str:
    """The signed token of a person's "stop sending me questions" link; it never expires."""
    return signing.dumps(person.pk, salt=ROUTING_OPT_OUT_SALT)


def person_for_opt_out_token(token: str) -> int:
    """The person id a token was made for; raises signing.BadSignature for a token we did not sign."""
    person_id = signing.loads(token, salt=ROUTING_OPT_OUT_SALT)
    if not isinstance(person_id, int):
        raise signing.BadSignature("Not a person's token.")
    return person_id


def routing_opt_out_url(person: Person) -> str:
    return absolute_url(reverse("questions:stop_routing", args=[routing_opt_out_token(person)]))


def mail_domain() -> str:
    return urlsplit(settings.WAGTAILADMIN_BASE_URL).hostname or "localhost"


def _routing_signature(routing_id: int) -> str:
    return salted_hmac(ROUTING_MESSAGE_SALT, str(routing_id)).hexdigest()[:32]


def routing_message_id(routing: QuestionRouting) -> str:
    return f"<storybank-routing.{routing.pk}.{_routing_signature(routing.pk)}@{mail_domain()}>"


def routing_replied_to(header_values: list[str]) -> int | None:
    """The routing a reply answers, from its In-Reply-To and References; None if it names none we signed."""
    for value in header_values:
        for routing_id, signature in ROUTING_MESSAGE_ID.findall(value or ""):
            if constant_time_compare(signature, _routing_signature(int(routing_id))):
                return int(routing_id)
    return None


def send_email(subject: str, template: str, context: dict, to: str, *, headers: dict | None = None) -> bool:
    """Send questions/email/<template>.txt with its .html twin; False (logged) when the server refuses it."""
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"questions/email/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=headers or {},
    )
    message.attach_alternative(render_to_string(f"questions/email/{template}.html", context), "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        logger.warning("Could not send %s e-mail to %s: %s", template, to, error)
        return False
    return True


def unsubscribe_headers(unsubscribe_url: str) -> dict:
    """Mail programs then offer their own one-click unsubscribe (RFC 8058)."""
    return {"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def notify_routed_people(question: Question, routed: list[RoutedPerson]) -> int:
    """E-mail each routed person who has an address; returns how many e-mails went out."""
    subject = f"{asker_first_name(question)} asks: {question.short_text}"
    context = {
        "question": question,
        "asker_name": question.asker_name,
        "question_url": absolute_url(question.get_absolute_url()),
        "tell_url": absolute_url(reverse("questions:tell", args=[question.pk])),
    }
    sent = []
    for routed_person in routed:
        person = routed_person.routing.person
        if not person.email:
            continue
        evidence = [
            {"role": item.role, "title": item.title, "url": absolute_url(item.url)}
            for item in routed_person.evidence
        ]
        unsubscribe_url = routing_opt_out_url(person)
        personal = {**context, "person": person, "evidence": evidence, "unsubscribe_url": unsubscribe_url}
        headers = {
            **unsubscribe_headers(unsubscribe_url),
            # Replies come back to the library, and name the routing they answer.
            "Message-ID": routing_message_id(routed_person.routing),
            "Reply-To": settings.QUESTIONS_EMAIL_ADDRESS,
        }
        if send_email(subject, "routed", personal, person.email, headers=headers):
            sent.append(routed_person.routing.pk)
    QuestionRouting.objects.filter(pk__in=sent).update(notified=True)
    return len(sent)


def waiting_for_answer(question: Question, *, besides=None) -> list:
    """The asker and the question's followers with an address, once each; never `besides` (who answered)."""
    people = [question.asker] if question.asker is not None else []
    people += list(question.followers.filter(is_active=True).exclude(email=""))
    seen, waiting = set(), []
    for user in people:
        if user.email and user.pk not in seen and (besides is None or user.pk != besides.pk):
            seen.add(user.pk)
            waiting.append(user)
    return waiting


def _person_name(user) -> str:
    if user is None:
        return "A colleague"
    return user.get_full_name().strip() or user.get_username()


def notify_of_story_answer(question: Question, story: StoryPage, answerer) -> int:
    """Tell the asker and followers which story answered the question (not the one who answered it).

    `answerer` may be None: a story told in answer whose teller's account is gone. Returns how
    many e-mails went out. Each recipient is told of the story only if they may read it.
    """
    context = {
        "question": question,
        "question_url": absolute_url(question.get_absolute_url()),
        "answerer_name": _person_name(answerer),
    }
    sent = 0
    for user in waiting_for_answer(question, besides=answerer):
        readable = story.is_visible_to(user)
        personal = {
            **context,
            "story": story if readable else None,
            "story_url": absolute_url(story.url) if readable else "",
            "is_asker": user.pk == question.asker_id,
        }
        sent += send_email(f"Answered: {question.short_text}", "answered", personal, user.email)
    return sent


def notify_of_written_answer(question: Question, answer: Answer) -> int:
    """Tell the asker and followers that a colleague answered (the asker may accept it)."""
    context = {
        "question": question,
        "answer": answer,
        "question_url": absolute_url(question.get_absolute_url()),
        "author_name": answer.author_name,
    }
    sent = 0
    for user in waiting_for_answer(question, besides=answer.author):
        personal = {**context, "is_asker": user.pk == question.asker_id}
        sent += send_email(f"New answer: {question.short_text}", "new_answer", personal, user.email)
    return sent


def notify_of_accepted_answer(question: Question, answer: Answer) -> int:
    """Tell the author their answer was accepted, and followers that the question is answered."""
    context = {
        "question": question,
        "answer": answer,
        "question_url": absolute_url(question.get_absolute_url()),
        "author_name": answer.author_name,
    }
    people = [answer.author] if answer.author is not None and answer.author.email else []
    people += [user for user in waiting_for_answer(question) if user.pk != question.asker_id]
    sent, seen = 0, set()
    for user in people:
        if user.pk in seen:
            continue
        seen.add(user.pk)
        personal = {**context, "is_author": answer.author is not None and user.pk == answer.author.pk}
        sent += send_email(f"Answered: {question.short_text}", "answer_accepted", personal, user.email)
    return sent
