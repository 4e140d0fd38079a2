"""Bringing a question to the library: what already answers it, posting it, routing it, answering it.

The stories and people come from the search a reader runs (`search.service`, `search.people`), so
visibility is the search's own: nothing the asker may not read is suggested, and nobody is routed
a question on the strength of a story the asker could not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from questions.models import Question, QuestionRouting, QuestionStatus, RoutingOptOut
from questions.visibility import visible_questions
from search.people import Evidence, KnowingPerson, people_who_know
from search.query import SearchQuery
from search.service import SearchPage, search_stories
from stories.helpful import has_voted_helpful, toggle_helpful_vote
from stories.models import Person, StoryPage, Theme
from stories.visibility import is_editor

STORIES_SUGGESTED = 5
# The best few results say what a question is about: their approved themes become its themes.
STORIES_FOR_THEMES = 3
MAX_STORY_ID = 2**31 - 1


class AnswerRefused(Exception):
    """A story cannot answer this question; `reason` is a sentence for the person who tried."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass
class Suggestions:
    """What the library already knows about a question: the best stories and the people who know."""

    search: SearchPage
    people: list[KnowingPerson] = field(default_factory=list)

    @property
    def unavailable(self) -> bool:
        return self.search.unavailable


@dataclass
class RoutedPerson:
    """Someone a question was sent to, and the stories of theirs that made them the one to ask."""

    routing: QuestionRouting
    evidence: list[Evidence]


def suggested_stories(text: str, user, *, limit: int = STORIES_SUGGESTED) -> SearchPage:
    return search_stories(SearchQuery(text=text, per_page=limit), user)


def suggest_answers(text: str, user) -> Suggestions:
    """The stories that best answer `text` for this reader, and the people behind them."""
    page = suggested_stories(text, user)
    people = [] if page.unavailable else people_who_know(text, user)
    return Suggestions(page, people)


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
        )
        question.themes.set(themes)
        if not has_voted_helpful(story, user):
            toggle_helpful_vote(story, user)
    return question


def post_question(text: str, user) -> tuple[Question, list[RoutedPerson]]:
    """Store an open question and route it to the people who know (QUESTIONS_ROUTE_TO at most)."""
    themes = question_themes(text, user)
    with transaction.atomic():
        question = Question.objects.create(text=text, asker=user)
        question.themes.set(themes)
        routed = route_question(question, user, limit=settings.QUESTIONS_ROUTE_TO)
    return question, routed


def route_question(question: Question, asker, *, limit: int) -> list[RoutedPerson]:
    """Send the question to the `limit` best people who know about it, never to the asker.

    Nor to anyone who asked not to be sent questions (`RoutingOptOut`): the next best is asked instead.
    """
    if limit < 1:
        return []
    passed_by = set(people_who_are(asker).values_list("slug", flat=True))
    passed_by |= set(RoutingOptOut.objects.values_list("person__slug", flat=True))
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
