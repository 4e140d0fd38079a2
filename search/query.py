"""What a reader asks for (SearchQuery) and what a backend answers (SearchResults).

The same query shape comes from the /search/ page, /api/search/ and the benchmark; every state
round-trips through URL parameters
(`?q=&theme=&person=&outcome=&year=&language=&source=&sort=&page=`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from stories.params import QueryParams

SORTS = ("relevance", "newest", "helpful")
# How text is matched: both lists fused (the default), words only, or meaning only (for comparison).
RETRIEVALS = ("hybrid", "lexical", "semantic")
FACETS = ("theme", "person", "outcome", "year", "language")
FILTERS = FACETS + ("source",)
MAX_QUERY_LENGTH = 200
MAX_FILTER_VALUES = 20
MAX_FILTER_LENGTH = 150
MAX_PAGE = 1000
DEFAULT_PER_PAGE = 10


@dataclass(frozen=True)
class SearchQuery:
    """A search: free text, filters (OR within one filter, AND across filters), sort and page.

    `include_staff` says whether staff-only stories may be returned; the service sets it from the
    user, and backends apply it inside the engine query so totals and facets agree with the hits.
    """

    text: str = ""
    themes: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    languages: tuple[str, ...] = ()  # as Whisper names them: "en", "de"…
    sources: tuple[str, ...] = ()
    sort: str = "relevance"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    include_staff: bool = False
    retrieval: str = "hybrid"
    # Only the ranked stories are wanted (Who knows about this?): a backend may skip the total, the
    # facet counts and the field highlights, which cost more than the ranking itself.
    ranking_only: bool = False
    # Only the first `highlighted` hits are shown with their field highlights (the rest of a longer
    # ranking is read for its people and transcript moments): a backend may skip the others'. None: all.
    highlighted: int | None = None

    def __post_init__(self):
        if self.sort not in SORTS:
            raise ValueError(f"unknown sort {self.sort!r}")
        if self.retrieval not in RETRIEVALS:
            raise ValueError(f"unknown retrieval {self.retrieval!r}")

    @classmethod
    def from_params(
        cls, params: Mapping, *, include_staff: bool = False, per_page: int = DEFAULT_PER_PAGE
    ) -> SearchQuery:
        """Read a query from request.GET-like params; anything malformed raises BadParameter (a 400)."""
        reader = QueryParams(params)

        def values(name: str) -> tuple[str, ...]:
            return reader.texts(name, max_count=MAX_FILTER_VALUES, max_length=MAX_FILTER_LENGTH)

        return cls(
            text=" ".join(reader.text("q", max_length=MAX_QUERY_LENGTH).split()),
            themes=values("theme"),
            people=values("person"),
            outcomes=values("outcome"),
            years=reader.integers("year", max_count=MAX_FILTER_VALUES, minimum=1000, maximum=9999),
            languages=values("language"),
            sources=values("source"),
            sort=reader.choice("sort", SORTS, default="relevance"),
            page=reader.integer("page", default=1, minimum=1, maximum=MAX_PAGE),
            per_page=per_page,
            include_staff=include_staff,
        )

    def filters(self) -> dict[str, tuple]:
        """Active filters by facet name (only the non-empty ones)."""
        all_filters = {
            "theme": self.themes,
            "person": self.people,
            "outcome": self.outcomes,
            "year": self.years,
            "language": self.languages,
            "source": self.sources,
        }
        return {name: values for name, values in all_filters.items() if values}

    def filters_except(self, facet: str) -> dict[str, tuple]:
        """The filters that shape `facet`'s counts: all the others (standard faceted navigation)."""
        return {name: values for name, values in self.filters().items() if name != facet}

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def effective_sort(self) -> str:
        """Relevance without text means nothing to rank by: newest first instead."""
        return "newest" if self.sort == "relevance" and not self.text else self.sort

    def params(self, **changes) -> list[tuple[str, str]]:
        """URL parameters for this query (or a changed copy); defaults are left out of the URL."""
        query = replace(self, **changes) if changes else self
        pairs: list[tuple[str, str]] = []
        if query.text:
            pairs.append(("q", query.text))
        for name, values in (
            ("theme", query.themes),
            ("person", query.people),
            ("outcome", query.outcomes),
            ("year", query.years),
            ("language", query.languages),
            ("source", query.sources),
        ):
            pairs.extend((name, str(value)) for value in values)
        if query.sort != "relevance":
            pairs.append(("sort", query.sort))
        if query.page != 1:
            pairs.append(("page", str(query.page)))
        return pairs

    def url(self, base: str = "/search/", **changes) -> str:
        pairs = self.params(**changes)
        return f"{base}?{urlencode(pairs)}" if pairs else base

    def without(self, facet: str, value) -> SearchQuery:
        """This query with one filter value removed (for the "remove filter" chips), back on page 1."""
        attribute = {
            "theme": "themes",
            "person": "people",
            "outcome": "outcomes",
            "year": "years",
            "language": "languages",
            "source": "sources",
        }[facet]
        remaining = tuple(item for item in getattr(self, attribute) if str(item) != str(value))
        return replace(self, **{attribute: remaining, "page": 1})


@dataclass
class TranscriptHit:
    """One transcript segment that matched the text, with where it starts in the clip."""

    start: float
    end: float
    text: str
    highlighted: str  # HTML: the segment text, escaped, with <mark> around matched words


@dataclass
class SearchHit:
    id: int
    score: float
    highlights: dict[str, str] = field(default_factory=dict)  # field → HTML fragment with <mark>
    transcript_hits: list[TranscriptHit] = field(default_factory=list)


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False


@dataclass
class SearchResults:
    total: int
    hits: list[SearchHit]
    facets: dict[str, list[FacetValue]]


@dataclass
class Suggestion:
    """An autocomplete entry: a story title or a person, with where it leads."""

    label: str
    kind: str  # "story" or "person"
    url: str
    value: str = ""
