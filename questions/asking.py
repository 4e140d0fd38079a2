"""Bringing a question to the library: what already answers it, posting it, routing it, answering it.

The stories and people come from the search a reader runs (`search.service`, `search.people`), so
visibility is the search's own: nothing the asker may not read is suggested, and nobody is routed
a question on the strength of a story the asker could not see.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from questions.answered import with_answers as answered_questions
from questions.models import (
    MAX_ANSWER_LENGTH,
    Answer,
    Question,
    QuestionMute,
    QuestionRouting,
    QuestionSource,
    QuestionStatus,
    RoutingOptOut,
)
from questions.visibility import visible_questions
from search import embeddings
from search.boosts import move_first
from search.people import Evidence, KnowingPerson, people_who_know, question_words, search_with_people
from search.query import SearchQuery
from search.service import SearchPage, search_stories
from search.sync import meaning_indexed
from stories.helpful import has_voted_helpful, toggle_helpful_vote
from stories.models import Person, StoryPage, Theme
from stories.visibility import is_editor

logger = logging.getLogger(__name__)

STORIES_SUGGESTED = 5
# The best few results say what a question is about: their approved themes become its themes.
STORIES_FOR_THEMES = 3
MAX_STORY_ID = 2**31 - 1
# Cosine similarity from which an earlier question is shown as "someone asked this". Measured with
# the bundled model: paraphrases 0.50–0.87, unrelated questions 0.04–0.22.
SIMILAR_QUESTION_SCORE = 0.45
SIMILAR_QUESTIONS_SHOWN = 3
QUESTIONS_FOUND_BY_MEANING = 50
MAX_WORDS_MATCHED = 10


class AnswerRefused(Exception):
    """A story cannot answer this question; `reason` is a sentence for the person who tried."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass
class Suggestions:
    """What the library already knows about a question: the best stories, the people who know, and
    earlier questions like it with what answered them."""

    search: SearchPage
    people: list[KnowingPerson] = field(default_factory=list)
    similar: list[SimilarQuestion] = field(default_factory=list)

    @property
    def unavailable(self) -> bool:
        return self.search.unavailable


@dataclass
class SimilarQuestion:
    """An earlier question close in meaning to one being asked."""

    question: Question
    score: float
    story: StoryPage | None = None  # the story that answered it, when this reader may read it
    accepted: Answer | None = None  # or the written answer its asker accepted


@dataclass
class RoutedPerson:
    """Someone a question was sent to, and the stories of theirs that made them the one to ask."""

    routing: QuestionRouting
    evidence: list[Evidence]


def suggested_stories(text: str, user, *, limit: int = STORIES_SUGGESTED) -> SearchPage:
    return search_stories(SearchQuery(text=text, per_page=limit), user)


def suggest_answers(text: str, user) -> Suggestions:
    """The stories that best answer `text` for this reader, and the people behind them.

    A story that answered a question much like this one (`similar_questions`) is moved to the top
    of the stories, closest question first: the library has already seen it answer this.
    """
    page, people = search_with_people(SearchQuery(text=text, per_page=STORIES_SUGGESTED), user)
    similar = similar_questions(text, user, with_answers=True)
    proven = [item.story.pk for item in similar if item.story is not None]
    return Suggestions(move_first(page, proven), people, similar)


def every_word_of(text: str) -> Q | None:
    """A filter for questions whose text holds every word of `text` that says what it is about (no
    "how", "the"…; at most MAX_WORDS_MATCHED of them), or None when `text` has no such word."""
    words = sorted(question_words(text))[:MAX_WORDS_MATCHED]
    if not words:
        return None
    contains = Q()
    for word in words:
        contains &= Q(text__icontains=word)
    return contains


def questions_about(text: str, user) -> QuerySet[Question]:
    """Questions this reader may see that contain every word of `text` that says what it is about,
    or that ask much the same (`similar_questions`): the board's search box."""
    contains = every_word_of(text)
    if contains is None:
        return visible_questions(user)
    similar = [item.question.pk for item in similar_questions(text, user, limit=QUESTIONS_FOUND_BY_MEANING)]
    return visible_questions(user).filter(contains | Q(pk__in=similar))


def meaning_ready_for(text: str) -> None:
    """Wait for the question's vector before routing it: routing is decided once, and a process
    whose model is still loading (a web worker just started, the mail listener) would otherwise
    route on words alone and find nobody for a question put in other words. Seconds, once a process.

    The search then reads the vector from the model's cache of questions. A model that cannot
    load leaves words only.
    """
    try:
        embeddings.query_vector(text, wait=True)
    except Exception:
        logger.exception("The embedding model is unavailable: this question is routed on its words only")


def question_embedding(text: str) -> bytes | None:
    """The question's vector as stored bytes, or None while the model loads (or meaning search is off)."""
    vector = embeddings.query_vector(text)
    return None if vector is None else embeddings.to_bytes(vector)


def similar_questions(
    text: str, user, *, limit: int = SIMILAR_QUESTIONS_SHOWN, with_answers: bool = False
) -> list[SimilarQuestion]:
    """Open and answered questions this reader may see that ask much the same, closest first.

    `with_answers` also reads what answered each (two queries more): on /ask/ an answered earlier
    question puts its answer before the search results.

    Exact vectors over every kept question: a library holds thousands of questions, not millions.
    Questions merged into another are left out (the one they were merged into stands for them).
    """
    vector = embeddings.query_vector(text)
    if vector is None:
        return []
    rows = list(
        visible_questions(user)
        .filter(status__in=[QuestionStatus.OPEN, QuestionStatus.ANSWERED], merged_into__isnull=True)
        .exclude(embedding=None)
        .values_list("pk", "embedding")
    )
    if not rows:
        return []
    matrix = np.vstack([np.frombuffer(bytes(data), dtype=np.float32) for _, data in rows])
    scores = matrix @ vector
    best = [
        (float(scores[position]), rows[position][0])
        for position in np.argsort(-scores)[:limit]
        if scores[position] >= SIMILAR_QUESTION_SCORE
    ]
    found = Question.objects.select_related("asker").in_bulk([pk for _, pk in best])
    similar = [SimilarQuestion(found[pk], score) for score, pk in best if pk in found]
    if with_answers:
        for item, answered in zip(
            similar, answered_questions([item.question for item in similar], user), strict=True
        ):
            item.story, item.accepted = answered.story, answered.written_answer
    return similar


def question_themes(text: str, user, *, also: StoryPage | None = None) -> list[Theme]:
    """The approved themes of the top results for `text` (and of the story `also`, when given)."""
    page = search_stories(SearchQuery(text=text, per_page=STORIES_FOR_THEMES, ranking_only=True), user)
    slugs = {theme.slug for result in page.results for theme in result.story.themes}
    themes = Q(slug__in=slugs)
    if also is not None:
        themes |= Q(stories=also)
    return list(Theme.objects.filter(themes, is_approved=True).distinct())


def people_who_are(user) -> QuerySet[Person]:
    """The directory entries that are this user: linked to the account, or with its e-mail address."""
    match = Q(user=user)
    if user.email:
        match |= Q(email__iexact=user.email)
    return Person.objects.filter(match)


def accounts_that_are(person: Person) -> QuerySet:
    """The user accounts that are this directory entry: the linked one, or those with its e-mail address.

    The other way round from `people_who_are`, with the same match.
    """
    match = Q(pk=person.user_id) if person.user_id else Q(pk__in=[])
    if person.email:
        match |= Q(email__iexact=person.email)
    return get_user_model().objects.filter(match)


def readable_story(story_id: int, user) -> StoryPage | None:
    if not 0 < story_id <= MAX_STORY_ID:
        return None
    return StoryPage.objects.visible_to(user).filter(pk=story_id).first()


def record_answered_question(text: str, story: StoryPage, user) -> Question:
    """The asker found the answer among the suggestions: the question is stored already answered.

    Saying a story answered it is also saying it helped: the asker's "this helped me" vote is
    cast (never taken back, if they had voted before).
    """
    themes = question_themes(text, user, also=story)
    with transaction.atomic():
        question = Question.objects.create(
            text=text,
            asker=user,
            status=QuestionStatus.ANSWERED,
            answered_by=story,
            answered_at=timezone.now(),
            embedding=question_embedding(text),
        )
        question.themes.set(themes)
        if not has_voted_helpful(story, user):
            toggle_helpful_vote(story, user)
    return question


def post_question(
    text: str, user, *, source: str = QuestionSource.WEB, before_routing=None
) -> tuple[Question, list[RoutedPerson]]:
    """Store an open question and route it to the people who know (QUESTIONS_ROUTE_TO at most).

    `before_routing(question)` runs in the same transaction, so what it records is kept only with
    the question (mail uses it to remember the message it came in).
    """
    meaning_ready_for(text)
    themes = question_themes(text, user)
    with transaction.atomic():
        question = Question.objects.create(
            text=text,
            asker=user,
            source=source,
            embedding=question_embedding(text),
            routed_before_meaning=not meaning_indexed(),
        )
        question.themes.set(themes)
        if before_routing is not None:
            before_routing(question)
        routed = route_question(question, user, limit=settings.QUESTIONS_ROUTE_TO)
    return question, routed


def route_question(question: Question, asker, *, limit: int) -> list[RoutedPerson]:
    """Send the question to the `limit` best people who know about it, never to the asker.

    Nor to anyone who asked not to be sent questions (`RoutingOptOut`), or who was sent it
    already: the next best is asked instead.
    """
    if limit < 1:
        return []
    passed_by = set(people_who_are(asker).values_list("slug", flat=True))
    passed_by |= set(RoutingOptOut.objects.values_list("person__slug", flat=True))
    passed_by |= set(question.routings.values_list("person__slug", flat=True))
    candidates = people_who_know(question.text, asker, limit=limit + len(passed_by))
    chosen = [candidate for candidate in candidates if candidate.person.slug not in passed_by][:limit]
    people = Person.objects.in_bulk([candidate.person.slug for candidate in chosen], field_name="slug")
    routed = []
    for candidate in chosen:
        routing, _ = QuestionRouting.objects.get_or_create(
            question=question, person=people[candidate.person.slug]
        )
        routed.append(RoutedPerson(routing, candidate.evidence))
    return routed


def story_named_by(reference: str, user) -> StoryPage:
    """The published story `reference` names (its number, address or slug) that `user` may read.

    Refuses with the reason otherwise: a draft the user can open is named as not published yet;
    a story they cannot open is, to them, no story at all.
    """
    reference = reference.strip()
    if not reference:
        raise AnswerRefused("Choose a story, or paste the address of one, to answer this question.")
    if reference.isdigit():
        if len(reference) > 10 or not 0 < int(reference) <= MAX_STORY_ID:
            raise AnswerRefused("No story has that number.")
        lookup = Q(pk=int(reference))
    else:
        parts = [part for part in urlsplit(reference).path.split("/") if part]
        if not parts:
            raise AnswerRefused("That address names no story.")
        lookup = Q(slug=parts[-1])
    story = StoryPage.objects.visible_to(user).filter(lookup).first()
    if story is not None:
        return story
    unpublished = StoryPage.objects.openable_by(user).filter(lookup).first()
    if unpublished is not None:
        raise AnswerRefused(
            f"“{unpublished.title}” is not published yet: a question can only be answered by a "
            "story its readers can open. Point to it once an editor has published it."
        )
    raise AnswerRefused("No published story you can read has that address.")


def answer_question(question: Question, story: StoryPage, answerer) -> Question:
    """Close an open question as answered by `story` (one the answerer may read)."""
    if not question.is_open:
        raise AnswerRefused(f"This question is already {question.get_status_display().lower()}.")
    if not story.is_visible_to(answerer):
        raise AnswerRefused("No published story you can read has that address.")
    updated = Question.objects.filter(pk=question.pk, status=QuestionStatus.OPEN).update(
        status=QuestionStatus.ANSWERED, answered_by=story, answered_at=timezone.now()
    )
    if not updated:  # someone answered or closed it a moment ago
        raise AnswerRefused("This question was answered or closed a moment ago.")
    question.refresh_from_db()
    return question


def write_answer(question: Question, text: str, author, *, source: str = QuestionSource.WEB) -> Answer:
    """A colleague's written answer to an open question they may see; the asker may accept it."""
    text = text.strip()
    if not text:
        raise AnswerRefused("Write your answer first.")
    if len(text) > MAX_ANSWER_LENGTH:
        raise AnswerRefused(f"Keep your answer under {MAX_ANSWER_LENGTH} characters (it has {len(text)}).")
    if not visible_questions(author).filter(pk=question.pk).exists():
        raise AnswerRefused("This question is not one you can see.")
    if not question.is_open:
        raise AnswerRefused(f"This question is already {question.get_status_display().lower()}.")
    return Answer.objects.create(question=question, author=author, text=text, source=source)


def may_accept(question: Question, user, answer: Answer | None = None) -> bool:
    """The asker (or an editor, for a question whose asker has left) accepts an answer, never their own.

    Accepting counts as evidence of knowing (`questions.evidence`): nobody vouches for themselves.
    """
    if answer is not None and answer.author_id == user.pk:
        return False
    if question.asker_id is not None:
        return question.asker_id == user.pk
    return is_editor(user)


def accept_answer(question: Question, answer: Answer, user) -> Question:
    """Close the question as answered by this written answer."""
    if answer.question_id != question.pk:
        raise AnswerRefused("That answer belongs to another question.")
    if not may_accept(question, user, answer):
        raise PermissionError("Only the asker may accept an answer, and not one of their own.")
    with transaction.atomic():
        updated = Question.objects.filter(pk=question.pk, status=QuestionStatus.OPEN).update(
            status=QuestionStatus.ANSWERED, answered_at=timezone.now()
        )
        if not updated:
            raise AnswerRefused("This question was answered or closed a moment ago.")
        Answer.objects.filter(pk=answer.pk).update(accepted=True)
    question.refresh_from_db()
    answer.refresh_from_db()
    return question


def toggle_following(question: Question, user) -> bool:
    """Follow (or stop following) a question; True when `user` now follows it. The asker always hears."""
    if question.followers.filter(pk=user.pk).exists():
        question.followers.remove(user)
        return False
    question.followers.add(user)
    QuestionMute.objects.filter(question=question, user=user).delete()
    return True


def hear_no_more(question: Question, user) -> None:
    """No more e-mails about this question to `user` (the asker too); following it again undoes it."""
    question.followers.remove(user)
    QuestionMute.objects.get_or_create(question=question, user=user)


def may_close(question: Question, user) -> bool:
    """The asker and editors may close a question."""
    return (question.asker_id is not None and question.asker_id == user.pk) or is_editor(user)


def close_question(question: Question, user) -> Question:
    if not may_close(question, user):
        raise PermissionError("Only the asker or an editor may close a question.")
    if question.is_open:
        Question.objects.filter(pk=question.pk).update(status=QuestionStatus.CLOSED)
        question.refresh_from_db()
    return question


def stop_routing_to(person: Person) -> bool:
    """`person` is sent no more questions; True the first time (asking again changes nothing)."""
    _, created = RoutingOptOut.objects.get_or_create(person=person)
    return created


def questions_routed_to(user) -> QuerySet[Question]:
    """Open questions routed to any directory entry that is this user, newest first."""
    routed = QuestionRouting.objects.filter(person__in=people_who_are(user)).values("question_id")
    return visible_questions(user).filter(pk__in=routed, status=QuestionStatus.OPEN).select_related("asker")
