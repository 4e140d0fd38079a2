"""The e-mails a question sends: to the people it is routed to, and to the asker once it is answered.

Links are built on settings.WAGTAILADMIN_BASE_URL (SITE_URL), never on the Host header a
request brought. A mail server that refuses a message never loses the question: it is stored
first, and a routing says whether its e-mail went out (`notified`).
"""

from __future__ import annotations

import logging
import smtplib
from urllib.parse import urljoin

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from questions.asking import RoutedPerson
from questions.models import Question, QuestionRouting
from stories.models import Person, StoryPage

ROUTING_OPT_OUT_SALT = "questions.routing-opt-out"

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
        if send_email(
            subject, "routed", personal, person.email, headers=unsubscribe_headers(unsubscribe_url)
        ):
            sent.append(routed_person.routing.pk)
    QuestionRouting.objects.filter(pk__in=sent).update(notified=True)
    return len(sent)


def notify_asker_of_answer(question: Question, story: StoryPage, answerer) -> bool:
    """Tell the asker which story answered their question (not when they answered it themselves).

    `answerer` may be None: a story told in answer whose teller's account is gone.
    """
    asker = question.asker
    if asker is None or not asker.email or (answerer is not None and asker.pk == answerer.pk):
        return False
    if answerer is None:
        answerer_name = "A colleague"
    else:
        answerer_name = answerer.get_full_name().strip() or answerer.get_username()
    context = {
        "question": question,
        "story": story,
        "story_url": absolute_url(story.url),
        "question_url": absolute_url(question.get_absolute_url()),
        "answerer_name": answerer_name,
    }
    return send_email(f"Answered: {question.short_text}", "answered", context, asker.email)
