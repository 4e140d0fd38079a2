"""Who may see a question: the one rule every question surface asks.

Questions are for signed-in colleagues: an anonymous reader never sees one, anywhere. The story
that answered a question is shown only to readers the stories' own rule lets read it
(`StoryPage.objects.visible_to`), so a question never reveals a story its reader may not open.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from questions.models import Question
from stories.models import StoryPage
from stories.visibility import is_signed_in


def visible_questions(user) -> QuerySet[Question]:
    """The questions `user` may see: all of them when signed in, none otherwise."""
    if not is_signed_in(user):
        return Question.objects.none()
    return Question.objects.all()


def shown_answers(questions: Iterable[Question], user) -> dict[int, StoryPage]:
    """The stories that answered these questions that `user` may read, by question id (one query)."""
    story_ids = {question.answered_by_id for question in questions if question.answered_by_id}
    if not story_ids:
        return {}
    stories = StoryPage.objects.visible_to(user).in_bulk(story_ids)
    return {
        question.pk: stories[question.answered_by_id]
        for question in questions
        if question.answered_by_id in stories
    }


def shown_answer(question: Question, user) -> StoryPage | None:
    """The story that answered `question`, if `user` may read it."""
    return shown_answers([question], user).get(question.pk)
