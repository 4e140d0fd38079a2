"""What editors do to questions: merge a duplicate into the question it repeats, close one, find the overdue.

A merge loses nothing: the duplicate's written answers, stories told in answer and routings move to
the question it repeats (unless that one has the same already), its asker and followers follow that
question from then on, and the duplicate stays, closed, pointing at it. Both actions are kept in
the question's history in the admin.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from wagtail.log_actions import log

from questions.asking import close_question, every_word_of, similar_questions
from questions.models import Answer, Question, QuestionStatus
from search.people import question_words
from stories.visibility import is_editor

# An open question nobody has answered after this long is overdue: the admin filters and the
# dashboard both ask `overdue_questions`.
OVERDUE_AFTER = timedelta(days=7)
MERGE_ACTION = "questions.merge"
CLOSE_ACTION = "questions.close"
MERGE_SUGGESTIONS = 5
# Similar questions are looked for among this many of the newest, so the merge page stays cheap.
SIMILARITY_CANDIDATES = 1000
SEARCH_RESULTS = 20


class CurationRefused(ValueError):
    """An editor's merge or close cannot be done; the message says why, for the editor to read."""


def overdue_questions(questions: QuerySet[Question] | None = None, *, now: datetime | None = None):
    """Open questions asked more than OVERDUE_AFTER ago (of `questions`, or of all)."""
    if questions is None:
        questions = Question.objects.all()
    cutoff = (now or timezone.now()) - OVERDUE_AFTER
    return questions.filter(status=QuestionStatus.OPEN, created_at__lt=cutoff)


def end_of_merges(question: Question) -> Question:
    """The question `question` was merged into, followed to the last one (itself if never merged)."""
    seen = {question.pk}
    while question.merged_into_id is not None and question.merged_into_id not in seen:
        seen.add(question.merged_into_id)
        question = Question.objects.get(pk=question.merged_into_id)
    return question


def may_be_merged(question: Question) -> bool:
    """Whether `question` may be merged into some other one (no query: for listings)."""
    return question.merged_into_id is None and question.status != QuestionStatus.ANSWERED


def duplicate_refusal(question: Question) -> str | None:
    """Why `question` may not be merged into any other, in a sentence; None when it may."""
    if may_be_merged(question):
        return None
    if question.merged_into_id is not None:
        return f"“{question}” was already merged into “{end_of_merges(question)}”."
    return f"“{question}” is answered: merge the other question into it instead."


def merge_refusal(question: Question, into: Question) -> str | None:
    """Why `question` may not be merged into `into`, in a sentence; None when it may."""
    if question.pk == into.pk:
        return "A question cannot be merged into itself."
    refusal = duplicate_refusal(question)
    if refusal:
        return refusal
    if into.merged_into_id is not None:
        end = end_of_merges(into)
        if end.pk == question.pk:
            return f"“{into}” was merged into “{question}”: merging back would go round in a circle."
        return f"“{into}” was merged into “{end}”: merge into that question instead."
    return None


def _require_editor(user) -> None:
    if not is_editor(user):
        raise PermissionError("Only editors may merge or close questions from the admin.")


def merge_question(question: Question, into: Question, *, by) -> Question:
    """Close `question` as a duplicate of `into`, moving what it gathered there; returns `into`.

    Answers, stories told in answer and routings `into` already has (same author and words, same
    story, same person) stay with the closed duplicate. Raises CurationRefused (see merge_refusal).
    """
    _require_editor(by)
    with transaction.atomic():
        locked = Question.objects.select_for_update().in_bulk([question.pk, into.pk])
        question, into = locked[question.pk], locked[into.pk]
        refusal = merge_refusal(question, into)
        if refusal:
            raise CurationRefused(refusal)

        said_there = set(into.answers.values_list("author_id", "text"))
        moving = [
            pk
            for pk, author_id, text in question.answers.values_list("pk", "author_id", "text")
            if (author_id, text) not in said_there
        ]
        Answer.objects.filter(pk__in=moving).update(question=into)
        question.stories_in_answer.exclude(story__in=into.stories_in_answer.values("story")).update(
            question=into
        )
        question.routings.exclude(person__in=into.routings.values("person")).update(question=into)

        following = {question.asker_id, *question.followers.values_list("pk", flat=True)}
        following -= {None, into.asker_id}
        into.followers.add(*following)
        into.themes.add(*question.themes.all())
        # Questions merged into the duplicate before now point straight at `into`.
        Question.objects.filter(merged_into=question).update(merged_into=into)

        question.status = QuestionStatus.CLOSED
        question.merged_into = into
        question.save(update_fields=["status", "merged_into"])
        log(
            instance=question,
            action=MERGE_ACTION,
            user=by,
            data={"into": into.pk, "into_text": into.short_text},
        )
    return into


def close_question_by_editor(question: Question, *, by) -> Question:
    """Close an open question nobody needs answered any more; refuses one already answered or closed."""
    _require_editor(by)
    question.refresh_from_db()
    if not question.is_open:
        raise CurationRefused(f"“{question}” is already {question.get_status_display().lower()}.")
    with transaction.atomic():
        close_question(question, by)
        log(instance=question, action=CLOSE_ACTION, user=by)
    return question


def merge_targets(question: Question) -> QuerySet[Question]:
    """The questions `question` could be merged into: any other one not merged elsewhere."""
    return Question.objects.filter(merged_into__isnull=True).exclude(pk=question.pk)


def merge_suggestions(question: Question, editor, *, limit: int = MERGE_SUGGESTIONS) -> list[Question]:
    """The merge targets closest in meaning to `question` (the near-duplicates the ask page finds),
    or, while the embedding model is unavailable, those sharing most of its words."""
    by_meaning = [
        item.question
        for item in similar_questions(question.text, editor, limit=limit + 1)
        if item.question.pk != question.pk
    ]
    if by_meaning:
        allowed = set(
            merge_targets(question).filter(pk__in=[q.pk for q in by_meaning]).values_list("pk", flat=True)
        )
        return [candidate for candidate in by_meaning if candidate.pk in allowed][:limit]
    return questions_sharing_words(question, limit=limit)


def questions_sharing_words(question: Question, *, limit: int = MERGE_SUGGESTIONS) -> list[Question]:
    """The merge targets sharing most words with `question` (what it is about, not "how" or "the").

    Scored by the share of words the two have in common, newest first among equals; questions that
    share no word are not suggested.
    """
    words = question_words(question.text)
    if not words:
        return []
    candidates = merge_targets(question).order_by("-created_at", "-pk")
    scored = []
    for candidate in candidates[:SIMILARITY_CANDIDATES]:
        theirs = question_words(candidate.text)
        shared = len(words & theirs)
        if shared:
            scored.append((shared / len(words | theirs), candidate))
    scored.sort(key=lambda pair: -pair[0])  # stable: newest first among equal scores
    return [candidate for _score, candidate in scored[:limit]]


def search_merge_targets(question: Question, text: str, *, limit: int = SEARCH_RESULTS) -> list[Question]:
    """Merge targets whose text holds every word typed that says what it is about, newest first."""
    contains = every_word_of(text)
    if contains is None:
        return []
    return list(merge_targets(question).filter(contains).order_by("-created_at", "-pk")[:limit])
