"""Who knows about this? The people behind the stories that answer a question, with the evidence.

People are ranked from the same hybrid search a reader runs, so visibility is the search's own:
a story this reader may not see is never a result, so it is never evidence, and nobody is named
from it. Apps above search add evidence it cannot see itself through `provide_evidence`
(questions: accepted answers to questions like this one); each source applies the same rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from django.urls import reverse

from search.backends.base import QUESTION_WORDS, RRF_K
from search.display import play_url
from search.query import SearchQuery
from search.service import NamedItem, SearchPage, StoryResult, first_listed, search_stories, story_cards
from stories.models import Person
from stories.transcripts import clock_time

TOLD = "told"
HELPED = "helped"
ANSWERED = "answered"
# What a story is worth to each person in it, times its reciprocal rank: a teller counts fully, a
# helper half; an accepted answer to a question like this one counts as telling a story.
ROLE_WEIGHTS = {TOLD: 1.0, HELPED: 0.5, ANSWERED: 1.0}
STORIES_CONSIDERED = 30
PEOPLE_SHOWN = 5
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Evidence:
    """One of the person's stories in the results: where it ranked, their part in it, the moment it points at."""

    title: str
    url: str
    role: str
    rank: int
    moment: float | None = None  # seconds into the recording, when the hit points at a moment

    @property
    def moment_url(self) -> str:
        return play_url(self.url, self.moment) if self.moment is not None else ""

    @property
    def moment_clock(self) -> str:
        return clock_time(self.moment) if self.moment is not None else ""


@dataclass
class KnowingPerson:
    person: NamedItem
    score: float = 0.0
    evidence: list[Evidence] = field(default_factory=list)
    strengths: list[str] = field(default_factory=list)  # their self-declared strengths the question names

    @property
    def url(self) -> str:
        return reverse("stories:person", args=[self.person.slug])


# (text, user) -> [(person, evidence)]: evidence from outside the story index, ranked by the source.
EvidenceSource = Callable[[str, object], list[tuple[NamedItem, "Evidence"]]]
_evidence_sources: dict[str, EvidenceSource] = {}


def provide_evidence(name: str, source: EvidenceSource | None) -> None:
    """Register `source(text, user)` as more evidence for Who knows about this?; None removes it.

    A source returns only what `user` may see, and must cost no query for an anonymous reader.
    """
    if source is None:
        _evidence_sources.pop(name, None)
    else:
        _evidence_sources[name] = source


def people_who_know(
    text: str, user, *, stories: int = STORIES_CONSIDERED, limit: int = PEOPLE_SHOWN
) -> list[KnowingPerson]:
    """The `limit` people who told or helped in the best of the top `stories` results for `text`.

    The story ranked r adds ROLE_WEIGHTS[role] / (RRF_K + r) to each person in it (reciprocal rank,
    as in the fusion of word and meaning matches); someone both telling and helping counts as the
    teller. A person whose self-declared strengths share a word with the question gets a small
    bonus, as much as helping in one more story ranked last; strengths alone never name anyone.
    Highest total first, ties by name.
    """
    text = " ".join(text.split())
    if not text or limit < 1:
        return []
    page = search_stories(
        SearchQuery(text=text, per_page=stories, ranking_only=True), user, cards=tellers_and_helpers
    )
    return people_in_results(text, page.results, user, stories=stories, limit=limit)


def shares_the_ranking(query: SearchQuery) -> bool:
    """Whether a page of results begins the ranking Who knows reads: a question's first page, by
    relevance, words and meaning together, unfiltered (people are ranked over the whole library)."""
    return (
        bool(query.text)
        and query.page == 1
        and query.sort == "relevance"
        and query.retrieval == "hybrid"
        and not query.filters()
        and not query.ranking_only
    )


def search_with_people(
    query: SearchQuery, user, *, stories: int = STORIES_CONSIDERED, limit: int = PEOPLE_SHOWN
) -> tuple[SearchPage, list[KnowingPerson]]:
    """A page of results and who knows about its question (`people_who_know`), from one search
    where the page begins Who knows' own ranking (`shares_the_ranking`), else from two.

    The shared search reads the top `stories` at once and highlights only the page's: a second
    search would rank the same stories again, load their cards and check them against the rule.
    """
    if not shares_the_ranking(query):
        page = search_stories(query, user)
        people = (
            [] if page.unavailable else people_who_know(page.query.text, user, stories=stories, limit=limit)
        )
        return page, people
    wide = search_stories(
        replace(query, per_page=max(query.per_page, stories), highlighted=query.per_page), user
    )
    page = replace(
        wide,
        query=replace(wide.query, per_page=query.per_page, highlighted=query.highlighted),
        results=wide.results[: query.per_page],
    )
    if wide.unavailable or limit < 1:
        return page, []
    text = " ".join(query.text.split())
    return page, people_in_results(text, wide.results[:stories], user, stories=stories, limit=limit)


def people_in_results(
    text: str,
    results: list[StoryResult],
    user,
    *,
    stories: int = STORIES_CONSIDERED,
    limit: int = PEOPLE_SHOWN,
) -> list[KnowingPerson]:
    """`people_who_know`'s ranking over `results`, the top `stories` of its search, best first."""
    candidates: dict[str, KnowingPerson] = {}
    for rank, result in enumerate(results, start=1):
        story, hit = result.story, result.hit
        roles = {person.slug: (person, HELPED) for person in story.people}
        if story.teller:
            roles[story.teller.slug] = (story.teller, TOLD)
        moment = hit.transcript_hits[0].start if hit.transcript_hits else None
        for slug, (person, role) in roles.items():
            candidate = candidates.setdefault(slug, KnowingPerson(person))
            candidate.score += ROLE_WEIGHTS[role] / (RRF_K + rank)
            candidate.evidence.append(Evidence(story.title, story.url, role, rank, moment))
    in_results = set(candidates)  # each told or helped in a story this reader may see
    for source in _evidence_sources.values():
        for person, evidence in source(text, user):
            candidate = candidates.setdefault(person.slug, KnowingPerson(person))
            candidate.score += ROLE_WEIGHTS[evidence.role] / (RRF_K + evidence.rank)
            candidate.evidence.append(evidence)
    _add_strengths(candidates, text, bonus=ROLE_WEIGHTS[HELPED] / (RRF_K + stories))
    ranked = sorted(
        candidates.values(),
        key=lambda candidate: (
            -round(candidate.score, 12),
            candidate.person.name.casefold(),
            candidate.person.slug,
        ),
    )
    return first_listed(ranked, lambda candidate: candidate.person.slug, user, limit, known=in_results)


def tellers_and_helpers(queryset) -> dict:
    """Story cards with only the people on them: the ranking reads no theme or outcome."""
    return story_cards(queryset, relations=("people",))


def question_words(text: str) -> set[str]:
    """The words of a question that say what it is about (no "how", "the", "who"…), lower-cased."""
    return {word for word in WORD.findall(text.casefold()) if word not in QUESTION_WORDS}


def _add_strengths(candidates: dict[str, KnowingPerson], text: str, *, bonus: float) -> None:
    asked = question_words(text)
    if not candidates or not asked:
        return
    rows = (
        Person.strengths.through.objects.filter(content_object__slug__in=list(candidates))
        .order_by("tag__name")
        .values_list("content_object__slug", "tag__name")
    )
    for slug, strength in rows:
        if question_words(strength) & asked:
            candidates[slug].strengths.append(strength)
    for candidate in candidates.values():
        if candidate.strengths:
            candidate.score += bonus


def people_payload(people: list[KnowingPerson]) -> list[dict]:
    """The ranking for /api/search/: each person, their score and their evidence."""
    return [
        {
            "name": candidate.person.name,
            "slug": candidate.person.slug,
            "url": candidate.url,
            "score": round(candidate.score, 6),
            "strengths": candidate.strengths,
            "evidence": [
                {
                    "title": evidence.title,
                    "url": evidence.url,
                    "role": evidence.role,
                    "moment": {"start": evidence.moment, "url": evidence.moment_url}
                    if evidence.moment is not None
                    else None,
                }
                for evidence in candidate.evidence
            ],
        }
        for candidate in people
    ]
