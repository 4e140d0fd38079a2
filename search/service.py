"""The search service: the one entry point pages, the API, commands and the story page use.

It asks the configured backend (settings.STORYBANK_SEARCH_BACKEND) with the user's visibility
applied inside the query, then re-checks every hit against the
database before anything is shown, and names the facet values from the current vocabulary.
While a story's queued update waits for the worker, the index may still hold it as it was: such
stories are left out inside the engine query for every reader who may not see them now, so
narrowing (staff-only, unpublished, deleted) shows in totals and facets at once.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace

from django.db.models import CharField, Q, QuerySet, Value

from search.backends import get_backend
from search.backends.base import SearchUnavailable
from search.documents import PageUrls, indexable_stories
from search.embeddings import enabled as meaning_enabled
from search.embeddings import query_vector
from search.models import PendingIndexUpdate
from search.query import FACETS, MAX_PAGE, FacetValue, SearchHit, SearchQuery, SearchResults, Suggestion
from search.sync import enqueue_stories, meaning_indexed
from stories.access import listed_people
from stories.languages import language_name
from stories.models import OutcomeType, Person, Source, StoryPage, Theme
from stories.visibility import may_read_staff_stories

logger = logging.getLogger(__name__)


def can_see_staff_stories(user) -> bool:
    return may_read_staff_stories(user)


@dataclass(frozen=True)
class NamedItem:
    name: str
    slug: str


@dataclass
class StoryCard:
    """What a result shows of a story, read straight from the database rows (no page objects).

    Loading full StoryPage objects costs more than the whole index query, so results use this.
    """

    id: int
    title: str
    url: str
    teller: NamedItem | None
    aha: str
    occurred_on: object
    first_published_at: object
    helpful_count: int
    visibility: str
    themes: list[NamedItem] = field(default_factory=list)
    people: list[NamedItem] = field(default_factory=list)
    outcome_types: list[NamedItem] = field(default_factory=list)

    @property
    def pk(self) -> int:
        return self.id


CARD_COLUMNS = (
    "pk",
    "title",
    "url_path",
    "teller__name",
    "teller__slug",
    "aha",
    "occurred_on",
    "first_published_at",
    "helpful_count",
    "visibility",
)


CARD_RELATIONS = ("themes", "people", "outcome_types")


def story_cards(queryset, *, relations: Collection[str] = CARD_RELATIONS) -> dict[int, StoryCard]:
    """Cards for the stories in `queryset` (already narrowed to what the user may see), by id.

    `relations`: which of the card's lists to fill, a query each (a card that lists no themes need
    not load them).
    """
    urls = PageUrls()
    cards = {}
    for row in queryset.values(*CARD_COLUMNS):
        teller = NamedItem(row["teller__name"], row["teller__slug"]) if row["teller__slug"] else None
        cards[row["pk"]] = StoryCard(
            id=row["pk"],
            title=row["title"],
            url=urls.url(row["url_path"]),
            teller=teller,
            aha=row["aha"],
            occurred_on=row["occurred_on"],
            first_published_at=row["first_published_at"],
            helpful_count=row["helpful_count"],
            visibility=row["visibility"],
        )
    if not cards:
        return cards
    for attribute, relation, target in (
        ("themes", StoryPage.themes, "theme"),
        ("people", StoryPage.people, "person"),
        ("outcome_types", StoryPage.outcome_types, "outcometype"),
    ):
        if attribute not in relations:
            continue
        links = relation.through.objects.filter(storypage_id__in=list(cards))
        if target == "theme":
            links = links.filter(theme__is_approved=True)  # a proposed theme is nobody's business yet
        rows = links.order_by(f"{target}__name").values_list(
            "storypage_id", f"{target}__name", f"{target}__slug"
        )
        for story_id, name, slug in rows:
            getattr(cards[story_id], attribute).append(NamedItem(name, slug))
    return cards


# Loads the cards for a queryset of stories the reader may see: {story id: card}.
CardLoader = Callable[[QuerySet], dict]


@dataclass
class StoryResult:
    """A hit ready to show: the story (checked against the database) and what matched in it."""

    story: StoryCard
    hit: SearchHit


@dataclass
class SearchPage:
    query: SearchQuery
    total: int
    results: list[StoryResult]
    facets: dict[str, list[FacetValue]]
    unavailable: bool = False
    active_filters: list[tuple[str, FacetValue]] = field(default_factory=list)
    meaning: str = ""  # MEANING_*: how far meaning took part; "" when the search did not ask for it

    @property
    def page_count(self) -> int:
        """Pages one may open: never past MAX_PAGE, the last page the parser accepts."""
        return min(MAX_PAGE, max(1, math.ceil(self.total / self.query.per_page)))

    @property
    def has_next(self) -> bool:
        return self.query.page < self.page_count

    @property
    def has_previous(self) -> bool:
        return self.query.page > 1


# Whether a question was matched by meaning too, for the page to say so.
MEANING_READY = "ready"
MEANING_STARTING = "starting"  # this process is still loading the model: words only, for seconds
MEANING_CATCHING_UP = "catching up"  # some stories wait for their vectors: found by words until then


def meaning_status(query: SearchQuery, vector) -> str:
    """How far meaning took part in this search (`vector`: the question's, None if not embedded)."""
    if not query.text or query.retrieval == "lexical" or query.ranking_only or not meaning_enabled():
        return ""
    if vector is None:
        return MEANING_STARTING
    return MEANING_READY if meaning_indexed() else MEANING_CATCHING_UP


def search_stories(query: SearchQuery, user, *, cards: CardLoader = story_cards) -> SearchPage:
    """Run a search for this user. Never raises for an unavailable index: the page says so instead.

    `cards` loads what each result shows from the hits this reader may see (by default the plain
    rows of StoryCard; the library's lists pass their page-object cards, so nothing loads twice).
    """
    query = _with_visibility(query, user)
    waiting = waiting_updates(user)
    vector = query_vector(query.text) if query.text and query.retrieval != "lexical" else None
    try:
        results = get_backend().search(query, hidden_ids=waiting.hidden_ids, vector=vector)
    except SearchUnavailable as error:
        logger.warning("Search unavailable: %s", error)
        results, unavailable = SearchResults(total=0, hits=[], facets={}), True
    else:
        unavailable = False
    ids = [hit.id for hit in results.hits]
    visible = cards(StoryPage.objects.visible_to(user).filter(pk__in=ids)) if ids else {}
    stale = [story_id for story_id in ids if story_id not in visible]
    if stale:
        _queue_stale_hits(stale)
    story_results = [StoryResult(visible[hit.id], hit) for hit in results.hits if hit.id in visible]
    facets = (
        {}
        if query.ranking_only
        else label_facets(results.facets, query, user, index_behind=waiting.index_behind)
    )
    return SearchPage(
        query=query,
        total=results.total,
        results=story_results,
        facets=facets,
        unavailable=unavailable,
        active_filters=active_filters(query, facets),
        meaning="" if unavailable else meaning_status(query, vector),
    )


def _with_visibility(query: SearchQuery, user) -> SearchQuery:
    return replace(query, include_staff=can_see_staff_stories(user))


@dataclass(frozen=True)
class WaitingUpdates:
    """What the queue says about the index for one reader: is it behind, and what must it not show."""

    index_behind: bool = False
    hidden_ids: frozenset[int] = frozenset()


def waiting_updates(user) -> WaitingUpdates:
    """Stories with a queued (or parked) update that `user` may not see now: the engine leaves them out.

    One query when the queue is empty (the usual case), two otherwise.
    """
    queued = PendingIndexUpdate.objects.all()
    if not queued.exists():
        return WaitingUpdates()
    visible_now = StoryPage.objects.visible_to(user).filter(pk__in=queued.values("story_id")).values("pk")
    hidden = queued.exclude(story_id__in=visible_now).values_list("story_id", flat=True).distinct()
    return WaitingUpdates(index_behind=True, hidden_ids=frozenset(hidden))


def _queue_stale_hits(story_ids: list[int]) -> None:
    """A hit the database no longer serves means the index is behind: queue those stories (once)."""
    still_indexable = set(indexable_stories().filter(pk__in=story_ids).values_list("pk", flat=True))
    already_queued = set(
        PendingIndexUpdate.objects.filter(story_id__in=story_ids).values_list("story_id", flat=True)
    )
    gone = [story_id for story_id in story_ids if story_id not in still_indexable | already_queued]
    if gone:
        enqueue_stories(gone, "stale search hit")


def facet_labels(values_by_facet: dict[str, list[str]]) -> dict[str, dict[str, str]]:
    """Current names of the theme, person and outcome slugs shown as facets, in one query.

    Proposed (unapproved) themes have no name here: to a reader they do not exist yet.
    """
    models = {
        "theme": Theme.objects.filter(is_approved=True),
        "person": Person.objects,
        "outcome": OutcomeType.objects,
    }
    querysets = [
        rows.filter(slug__in=values_by_facet[facet])
        .annotate(facet=Value(facet, output_field=CharField()))
        .values_list("facet", "slug", "name")
        .order_by()
        for facet, rows in models.items()
        if values_by_facet.get(facet)
    ]
    labels: dict[str, dict[str, str]] = {facet: {} for facet in models}
    labels["year"] = {value: value for value in values_by_facet.get("year", [])}
    labels["language"] = {value: language_name(value) for value in values_by_facet.get("language", [])}
    if querysets:
        combined = querysets[0].union(*querysets[1:], all=True) if len(querysets) > 1 else querysets[0]
        for facet, slug, name in combined:
            labels[facet][slug] = name
    return labels


def unlisted_people(slugs: list[str], user) -> set[str]:
    """Which of these people `user` may not know of (their page answers 404 to them): never name them."""
    if not slugs:
        return set()
    listed = set(listed_people(Person.objects.filter(slug__in=slugs), user).values_list("slug", flat=True))
    return set(slugs) - listed


def label_facets(
    facets: dict[str, list[FacetValue]], query: SearchQuery, user=None, *, index_behind: bool = True
) -> dict[str, list[FacetValue]]:
    """Name each facet value from the vocabulary; selected values always appear, even at zero.

    A value this reader may not know of (a proposed theme, someone only in stories hidden from
    them) is dropped, exactly like a value that does not exist. People counted by an index that is
    up to date appear in stories this reader may see; the others (counted while updates wait, or
    chosen in the URL) are checked against the database.
    """
    selected = {
        "theme": list(query.themes),
        "person": list(query.people),
        "outcome": list(query.outcomes),
        "year": [str(year) for year in query.years],
        "language": list(query.languages),
    }
    all_values: dict[str, list[FacetValue]] = {}
    for facet in FACETS:
        values = list(facets.get(facet, []))
        present = {value.value for value in values}
        values += [FacetValue(value, "", 0) for value in selected[facet] if value not in present]
        all_values[facet] = values
    names = facet_labels({facet: [value.value for value in values] for facet, values in all_values.items()})
    to_check = [value.value for value in all_values["person"] if index_behind or not value.count]
    unlisted = unlisted_people(to_check, user)
    labelled: dict[str, list[FacetValue]] = {}
    for facet, values in all_values.items():
        labels = names[facet]
        kept = []
        for value in values:
            if value.value not in labels or (facet == "person" and value.value in unlisted):
                continue  # unknown to this reader, or removed since indexing
            value.label = labels[value.value]
            value.selected = value.value in selected[facet]
            kept.append(value)
        if facet == "year":
            kept.sort(key=lambda value: value.value, reverse=True)
        labelled[facet] = kept
    return labelled


def active_filters(query: SearchQuery, facets: dict[str, list[FacetValue]]) -> list[tuple[str, FacetValue]]:
    """The chosen filters as chips; a value the vocabulary does not name for this reader has none."""
    chosen = []
    for facet, values in facets.items():
        chosen += [(facet, value) for value in values if value.selected]
    source_labels = dict(Source.choices)
    for source in query.sources:
        if source in source_labels:
            chosen.append(("source", FacetValue(source, str(source_labels[source]), 0, True)))
    return chosen


def suggest(prefix: str, user, limit: int = 6) -> list[Suggestion]:
    """Autocomplete entries for what is being typed: matching story titles, then matching people."""
    prefix = " ".join(prefix.split())[:100]
    if not prefix:
        return []
    try:
        story_ids, person_slugs = get_backend().suggest(
            prefix,
            include_staff=can_see_staff_stories(user),
            limit=limit,
            hidden_ids=waiting_updates(user).hidden_ids,
        )
    except SearchUnavailable:
        return []
    visible = StoryPage.objects.visible_to(user).filter(pk__in=story_ids)
    cards = story_cards(visible, relations=()) if story_ids else {}
    suggestions = [
        Suggestion(label=cards[story_id].title, kind="story", url=cards[story_id].url, value=str(story_id))
        for story_id in story_ids
        if story_id in cards
    ]
    wanted = limit * 2 - len(suggestions)
    for person in people_named(prefix, person_slugs, user, wanted):
        suggestions.append(
            Suggestion(
                label=person.name, kind="person", url=f"/search/?person={person.slug}", value=person.slug
            )
        )
    return suggestions


def people_named(prefix: str, slugs: list[str], user, limit: int) -> list[Person]:
    """The first `limit` of these people, by name, with a name word starting with each typed word.

    Names are matched first and the reader's right to know of someone checked after, a few people
    at a time: the check costs more than the match.
    """
    if limit < 1:
        return []
    words = prefix.lower().split()
    named = [
        person
        for person in Person.objects.filter(slug__in=slugs).order_by("name").only("pk", "name", "slug")
        if all(any(part.startswith(word) for part in person.name.lower().split()) for word in words)
    ]
    return first_listed(named, lambda person: person.slug, user, limit)


def first_listed(
    items: list, slug_of: Callable[[object], str], user, limit: int, *, known: Collection[str] = ()
) -> list:
    """The first `limit` of `items` whose person (`slug_of(item)`) this reader may know of.

    Checked a batch of `limit` at a time, one query each: usually one batch is enough. People in
    `known` are not asked about: the caller found them in stories this reader may see, which is
    what makes someone known (stories.access.listed_people).
    """
    shown: list = []
    for start in range(0, len(items), max(limit, 1)):
        batch = items[start : start + limit]
        unlisted = unlisted_people([slug_of(item) for item in batch if slug_of(item) not in known], user)
        shown += [item for item in batch if slug_of(item) not in unlisted]
        if len(shown) >= limit:
            break
    return shown[:limit]


def backend_health() -> dict:
    """Backend reachability plus the sync queue, for /healthz and `search_index status`."""
    health = get_backend().health()
    try:
        health["pending_updates"] = PendingIndexUpdate.objects.count()
        failing = PendingIndexUpdate.objects.filter(~Q(last_error=""))
        health["failing_updates"] = failing.count()
        health["parked_updates"] = PendingIndexUpdate.objects.parked().count()
    except Exception as error:  # the database check reports this properly
        health["pending_updates"] = None
        health["queue_error"] = str(error)
    return health
