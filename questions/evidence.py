"""What questions add to Who knows about this?: accepted answers to questions like the one asked.

Registered in `search.people` at start-up. A person whose written answer was accepted on a
similar question is evidence of knowing, as a story they told would be. The questions are the
reader's own `visible_questions`, so an anonymous reader gets nothing (and no query is made).
"""

from __future__ import annotations

from questions.asking import people_who_are, similar_questions
from questions.models import Answer, QuestionStatus
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
    accepted = Answer.objects.filter(
        question__in=similar, accepted=True, author__isnull=False
    ).select_related("author")
    by_question = {answer.question_id: answer for answer in accepted}
    found = []
    for rank, question in enumerate(similar, start=1):
        answer = by_question.get(question.pk)
        if answer is None:
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


def register() -> None:
    provide_evidence("accepted_answers", accepted_answers_to_similar_questions)
