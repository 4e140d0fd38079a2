"""What answered a question, as one reader may see it: the story, if they may read it, or the accepted answer.

The feeds and the digest show answered questions the same way; the story comes through
`questions.visibility.shown_answers`, so a staff-only story or a draft never reaches a reader
the stories' own rule keeps it from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from questions.models import Answer, Question
from questions.visibility import shown_answers
from stories.models import StoryPage


@dataclass(frozen=True)
class AnsweredQuestion:
    question: Question
    story: StoryPage | None  # the story that answered it, only when the reader may read it
    written_answer: Answer | None  # the written answer the asker accepted


def accepted_answers(questions: Sequence[Question]) -> dict[int, Answer]:
    """The accepted written answer of each question that has one, by question id (one query)."""
    answers = Answer.objects.filter(question__in=[question.pk for question in questions], accepted=True)
    accepted: dict[int, Answer] = {}
    for answer in answers.select_related("author").order_by("created_at", "pk"):
        accepted.setdefault(answer.question_id, answer)
    return accepted


def with_answers(questions: Sequence[Question], user) -> list[AnsweredQuestion]:
    """Each question with what answered it that `user` may see (two queries for the lot)."""
    questions = list(questions)
    if not questions:
        return []
    stories = shown_answers(questions, user)
    written = accepted_answers(questions)
    return [
        AnsweredQuestion(question, stories.get(question.pk), written.get(question.pk))
        for question in questions
    ]
