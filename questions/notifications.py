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
import time
import uuid
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from questions.asking import RoutedPerson, meaning_ready_for, question_themes, route_question
from questions.models import Answer, Question, QuestionMute, QuestionRouting, QuestionStatus
from questions.signed_links import QUESTION_MUTE, ROUTING_OPT_OUT
from search.people import people_who_know
from search.sync import meaning_indexed
from stories.models import Person, StoryPage

ROUTING_MESSAGE_SALT = "questions.routing-message-id"
ROUTING_MESSAGE_ID = re.compile(r"<storybank-routing\.(\d{1,18})\.([0-9a-f]{32})@[^<>\s]+>")
# Every other e-mail Storybank sends (answers, digests, acknowledgements): a reply to one is no question.
NOTICE_MESSAGE_ID = re.compile(r"<storybank-notice\.[0-9a-f]{32}@[^<>\s]+>")

logger = logging.getLogger(__name__)


def absolute_url(path: str) -> str:
    return urljoin(settings.WAGTAILADMIN_BASE_URL.rstrip("/") + "/", path)


def asker_first_name(question: Question) -> str:
    if question.asker is None:
        return "A colleague"
    return question.asker.first_name.strip() or question.asker.get_username()


def question_mute_url(question: Question, user) -> str:
    return absolute_url(QUESTION_MUTE.path(question.pk, user.pk))


def _send_to_one_waiting(question: Question, user, subject: str, template: str, context: dict) -> bool:
    """An e-mail about this question to one colleague, with the link to hear no more of it."""
    unsubscribe_url = question_mute_url(question, user)
    personal = {**context, "unsubscribe_url": unsubscribe_url}
    return send_email(subject, template, personal, user.email, headers=unsubscribe_headers(unsubscribe_url))


def routing_opt_out_url(person: Person) -> str:
    return absolute_url(ROUTING_OPT_OUT.path(person.pk))


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


def notice_message_id() -> str:
    return f"<storybank-notice.{uuid.uuid4().hex}@{mail_domain()}>"


def replies_to_a_notice(header_values: list[str]) -> bool:
    """Whether In-Reply-To / References name an e-mail Storybank sent that takes no reply."""
    return any(NOTICE_MESSAGE_ID.search(value or "") for value in header_values)


def send_email(subject: str, template: str, context: dict, to: str, *, headers: dict | None = None) -> bool:
    """Send questions/email/<template>.txt with its .html twin; False (logged) when the server refuses it.

    Every e-mail says it is automatic (RFC 3834, and Exchange's header), so out-of-office replies
    are not sent back to be read as answers; people's own replies do not copy these headers.
    One that names no Message-ID of its own gets a notice's, so a reply to it is never a question.
    """
    headers = {
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
        "Message-ID": notice_message_id(),
        **(headers or {}),
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"questions/email/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=headers,
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
    """E-mail each routed person who has an address; returns how many e-mails went out.

    A routing whose e-mail the mail server refused stays `notified=False`; the worker sends it
    again later (`resend_when_due`).
    """
    context = _routing_context(question)
    sent = [item.routing.pk for item in routed if item.routing.person.email and _send_routing(context, item)]
    QuestionRouting.objects.filter(pk__in=sent).update(notified=True)
    return len(sent)


def _routing_context(question: Question) -> dict:
    return {
        "subject": f"{asker_first_name(question)} asks: {question.short_text}",
        "question": question,
        "asker_name": question.asker_name,
        "question_url": absolute_url(question.get_absolute_url()),
        "tell_url": absolute_url(reverse("questions:tell", args=[question.pk])),
    }


def _send_routing(context: dict, routed_person: RoutedPerson) -> bool:
    person = routed_person.routing.person
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
    return send_email(context["subject"], "routed", personal, person.email, headers=headers)


# A routing e-mail not sent (the mail server was down, or the process stopped before sending) is
# sent again by the worker: once the request that routed it is long done, for two days.
RESEND_AFTER = timedelta(minutes=10)
RESEND_WITHIN = timedelta(days=2)
RESEND_EVERY_SECONDS = 15 * 60
_next_resend_at = 0.0


def resend_unsent_routings(now=None) -> int:
    """Send the routing e-mails that did not go out; returns how many went out this time.

    Each routing is claimed (marked notified) before its e-mail is sent, so two workers never
    both send it; one the server refuses again is unclaimed for the next round. The evidence is
    found again from the asker's search (it was never stored).
    """
    now = now or timezone.now()
    unsent = (
        QuestionRouting.objects.filter(
            notified=False,
            question__status=QuestionStatus.OPEN,
            routed_at__lte=now - RESEND_AFTER,
            routed_at__gte=now - RESEND_WITHIN,
            person__question_routing_opt_out__isnull=True,
        )
        .exclude(person__email="")
        .select_related("question__asker", "person")
        .order_by("question_id", "pk")
    )
    by_question: dict[int, list[QuestionRouting]] = {}
    for routing in unsent:
        by_question.setdefault(routing.question_id, []).append(routing)
    sent = 0
    for routings in by_question.values():
        question = routings[0].question
        claimed = [
            r
            for r in routings
            if QuestionRouting.objects.filter(pk=r.pk, notified=False).update(notified=True)
        ]
        if not claimed:
            continue
        found = people_who_know(question.text, question.asker) if question.asker is not None else []
        evidence = {candidate.person.slug: candidate.evidence for candidate in found}
        context = _routing_context(question)
        for routing in claimed:
            if _send_routing(context, RoutedPerson(routing, evidence.get(routing.person.slug, []))):
                sent += 1
            else:
                QuestionRouting.objects.filter(pk=routing.pk).update(notified=False)
    return sent


def resend_when_due() -> int:
    """The worker's housekeeping job: `resend_unsent_routings` every RESEND_EVERY_SECONDS per process."""
    global _next_resend_at
    if time.monotonic() < _next_resend_at:
        return 0
    _next_resend_at = time.monotonic() + RESEND_EVERY_SECONDS
    return resend_unsent_routings()


def route_again_when_meaning_ready() -> int:
    """The worker's housekeeping job: questions routed before meaning search covered the library.

    In the first minute after a fresh setup (or during a large import) the worker is still
    embedding stories, and a question put in other words than its story's finds nobody by its
    words alone. Once every story's vectors are in the index, each such question still open is
    routed again, to as many more people as make QUESTIONS_ROUTE_TO, and they are e-mailed as
    any routed person is. Returns how many people were added.
    """
    waiting = Question.objects.filter(routed_before_meaning=True)
    if not waiting.exists() or not meaning_indexed():
        return 0
    added = 0
    for question in waiting.select_related("asker"):
        # Claimed first, so two workers never route it twice.
        if not Question.objects.filter(pk=question.pk, routed_before_meaning=True).update(
            routed_before_meaning=False
        ):
            continue
        if not question.is_open or question.asker is None:
            continue
        meaning_ready_for(question.text)  # this worker's model may still be loading
        room = settings.QUESTIONS_ROUTE_TO - question.routings.count()
        routed = route_question(question, question.asker, limit=room)
        if not question.themes.exists():
            question.themes.set(question_themes(question.text, question.asker))
        notify_routed_people(question, routed)
        added += len(routed)
    if added:
        logger.info("Meaning search covers the library: %d more people routed to earlier questions", added)
    return added


def waiting_for_answer(question: Question, *, besides=None, first=None) -> list:
    """The asker and the question's followers with an address, once each; never `besides` (who
    answered), nor anyone who asked to hear no more of it.

    `first` (the author of an accepted answer) heads the list whatever they asked: being thanked
    is not news of the question.
    """
    waiting = [first] if first is not None and first.is_active and first.email else []
    people = [question.asker] if question.asker is not None and question.asker.is_active else []
    people += list(question.followers.filter(is_active=True).exclude(email=""))
    muted = set(QuestionMute.objects.filter(question=question).values_list("user_id", flat=True))
    seen = {user.pk for user in waiting}
    for user in people:
        if (
            user.email
            and user.pk not in seen
            and user.pk not in muted
            and (besides is None or user.pk != besides.pk)
        ):
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
        sent += _send_to_one_waiting(question, user, f"Answered: {question.short_text}", "answered", personal)
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
        sent += _send_to_one_waiting(
            question, user, f"New answer: {question.short_text}", "new_answer", personal
        )
    return sent


def notify_of_accepted_answer(question: Question, answer: Answer) -> int:
    """Tell the author their answer was accepted, and followers that the question is answered."""
    context = {
        "question": question,
        "answer": answer,
        "question_url": absolute_url(question.get_absolute_url()),
        "author_name": answer.author_name,
    }
    sent = 0
    for user in waiting_for_answer(question, besides=question.asker, first=answer.author):
        personal = {**context, "is_author": user.pk == answer.author_id}
        sent += _send_to_one_waiting(
            question, user, f"Answered: {question.short_text}", "answer_accepted", personal
        )
    return sent
