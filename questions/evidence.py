"""What answered questions teach search: who knows, and which stories answer questions like this one.

Registered at start-up in `search.people` (a person whose written answer was accepted on a similar
question is evidence of knowing, as a story they told would be) and `search.boosts` (the stories
that answered similar questions come first on /search/). The questions are the reader's own
`visible_questions`, so an anonymous reader gets nothing (and no query is made).
"""

from __future__ import annotations

from questions.answered import accepted_answers
from questions.asking import people_who_are, similar_questions
from questions.models import QuestionStatus
from search.boosts import provide_boost
from search.people import ANSWERED, Evidence, provide_evidence
from search.service import NamedItem
from stories.visibility import is_signed_in

SIMILAR_QUESTIONS_CONSIDERED = 5


def accepted_answers_to_similar_questions(text: str, user) -> list[tuple[NamedItem, Evidence]]:
    if not is_signed_in(user):
        return []
    similar = [
        item.question
        for item in similar_questions(text, user, limit=SIMILAR_QUESTIONS_CONSIDERED)
        if item.question.status == QuestionStatus.ANSWERED
    ]
    if not similar:
        return []
    accepted = accepted_answers(similar)
    found = []
    for rank, question in enumerate(similar, start=1):
        answer = accepted.get(question.pk)
        if answer is None or answer.author is None or not answer.author.is_active:
            continue
        # Signed-in readers may know of everyone in the directory (`stories.access.listed_people`).
        for person in people_who_are(answer.author).only("name", "slug"):
            found.append(
                (
                    NamedItem(person.name, person.slug),
                    Evidence(question.short_text, question.get_absolute_url(), ANSWERED, rank),
                )
            )
    return found


def stories_that_answered_similar_questions(text: str, user) -> list[int]:
    """The stories this reader may read that answered questions much like `text`, closest first (for /search/)."""
    if not is_signed_in(user):
        return []
    return [
        item.story.pk for item in similar_questions(text, user, with_answers=True) if item.story is not None
    ]


def register() -> None:
    provide_evidence("accepted_answers", accepted_answers_to_similar_questions)
    provide_boost("answered_questions", stories_that_answered_similar_questions)
