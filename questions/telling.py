"""Answering a question with a new story: the link to the share form, the draft it makes, publishing it.

The question page sends the teller to capture's share form with the question as the situation and
a signed origin naming the question and the teller. When the form saves the draft, capture
announces it (`capture.signals.story_shared`) and the draft is linked to the question
(`StoryInAnswer`). The question closes only when an editor publishes the story (Wagtail's
`page_published`): a draft, or a story in review, answers nothing. A story withdrawn later leaves
the question answered; its page says the story is not published at the moment.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from questions.models import Question, QuestionStatus, StoryInAnswer
from questions.notifications import notify_of_story_answer
from stories.models import StoryPage

ORIGIN_SALT = "questions.story-in-answer"


def story_origin(question: Question, user) -> str:
    """The share form's `origin` for a story told by `user` to answer `question` (signed: typed values fail)."""
    return signing.dumps({"question": question.pk, "teller": user.pk}, salt=ORIGIN_SALT)


def share_form_url(question: Question, user) -> str:
    """Capture's share form with the question as the story's situation, linked back to the question."""
    query = urlencode({"context": question.text, "origin": story_origin(question, user)})
    return f"{reverse('capture:share')}?{query}"


def voice_recorder_url(question: Question, user) -> str:
    """Capture's recorder, showing the question it answers; the draft it makes is linked back to it."""
    query = urlencode({"context": question.text, "origin": story_origin(question, user)})
    return f"{reverse('capture:voice')}?{query}"


def question_for_origin(origin: str, user) -> Question | None:
    """The open question `origin` names, when this user's own link made it; None for anything else."""
    if not origin:
        return None
    try:
        named = signing.loads(origin, salt=ORIGIN_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(named, dict) or named.get("teller") != user.pk:
        return None
    return Question.objects.filter(pk=named.get("question"), status=QuestionStatus.OPEN).first()


def link_shared_story(story: StoryPage, user, origin: str) -> StoryInAnswer | None:
    """Remember that this new draft answers the question its origin names (nothing for other origins)."""
    question = question_for_origin(origin, user)
    if question is None:
        return None
    link, _ = StoryInAnswer.objects.get_or_create(question=question, story=story, defaults={"teller": user})
    return link


def close_questions_answered_by(story: StoryPage) -> list[Question]:
    """The story is published: each open question it was told to answer is answered by it.

    Each asker is e-mailed once the publication is committed (a rolled-back publish tells nobody).
    A question answered or closed meanwhile is left as it is.
    """
    closed = []
    links = StoryInAnswer.objects.filter(story=story, question__status=QuestionStatus.OPEN).select_related(
        "question__asker", "teller"
    )
    for link in links:
        updated = Question.objects.filter(pk=link.question_id, status=QuestionStatus.OPEN).update(
            status=QuestionStatus.ANSWERED, answered_by=story, answered_at=timezone.now()
        )
        if updated:
            question = link.question
            question.refresh_from_db()
            answerer = link.teller or story.owner
            transaction.on_commit(lambda q=question, a=answerer: notify_of_story_answer(q, story, a))
            closed.append(question)
    return closed
