"""What every search backend provides, and the pieces both share (weights, facet sizes, highlighting).

A backend knows its engine and nothing about users or HTTP: the service tells it whether
staff-only stories may be returned (`SearchQuery.include_staff`) and which story ids it must never
return (`hidden_ids`: stories whose queued update has not reached the index yet and that this
reader may not see now), and it must apply both inside the engine query so totals, facets, pages
and suggestions all agree.

Which document fields are searched, and how much a match in each weighs, is `stories.schema`'s
weight table; each backend maps those document fields to its own index fields in one table.
"""

from __future__ import annotations

import html
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Mapping

import numpy as np

from search.query import SearchQuery, SearchResults
from stories.schema import search_weights

# Fields whose matches are shown as highlighted snippets, in the order a reader sees them.
HIGHLIGHT_FIELDS = ("title", "aha", "context", "outcome", "body", "transcript_text")
FACET_SIZES = {"theme": 30, "person": 30, "outcome": 20, "year": 50, "language": 20}
TRANSCRIPT_HITS_PER_STORY = 5
SNIPPET_CHARACTERS = 220

# Matching words, defined once for every engine. QUESTION_WORDS are left out of what is typed (the
# engines' own English stop lists keep "how", "can", "who", "my"…, which say nothing about a story). A question of up to MATCH_ALL_UP_TO words (after
# stop words) needs all of them; a longer one may miss MAY_MISS of them, rounded down (Elasticsearch's
# minimum_should_match "2<-40%"), so one stray word never empties the list. Stories with every word
# rank first (ALL_WORDS_BOOST), words close together in a field more so (PHRASE_BOOST within
# PHRASE_SLOP positions). Words of FUZZY_SHORTEST_WORD letters or more also match one typo, two from
# FUZZY_TWO_TYPOS_FROM letters (Elasticsearch's fuzziness "AUTO:5,8").
QUESTION_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each either else ever every
    few for from further get gets getting got had has have having he her here hers herself him
    himself his how i if in into is it its itself just let me might more most much must my myself
    no nor not now of off on once only or other our ours ourselves out over own please same shall
    she should so some such than that the their theirs them themselves then there these they this
    those through to too under until up us very was way ways we were what when where which while
    who whom whose why will with within without would you your yours yourself yourselves""".split()
)
MATCH_ALL_UP_TO = 2
MAY_MISS = 0.4
ALL_WORDS_BOOST = 1.0
PHRASE_FIELDS = ("title", "aha", "context", "outcome")
PHRASE_SLOP = 3
PHRASE_BOOST = 2.0
FUZZY_FIELDS = ("title", "aha", "context", "outcome", "themes", "teller", "people")
FUZZY_SHORTEST_WORD = 5
FUZZY_TWO_TYPOS_FROM = 8
FUZZY_BOOST = 0.5

# Matching meaning: a story is a semantic match when its vector (or one of its transcript
# segments') is at least SEMANTIC_MIN_SIMILARITY (cosine) from the question's, the closest
# SEMANTIC_CANDIDATES of those a reader may see. Both lists are fused by reciprocal rank (RRF_K).
SEMANTIC_MIN_SIMILARITY = 0.3
SEMANTIC_CANDIDATES = 50
RRF_K = 60


def required_words(count: int) -> int:
    """How many of a question's `count` words a story must contain to match on words."""
    if count <= MATCH_ALL_UP_TO:
        return count
    return count - int(count * MAY_MISS)


def minimum_should_match() -> str:
    """`required_words` in Elasticsearch's notation."""
    return f"{MATCH_ALL_UP_TO}<-{round(MAY_MISS * 100)}%"


def fuzzy_distance(word: str) -> int:
    """Typos forgiven in a word as typed (0 below FUZZY_SHORTEST_WORD letters)."""
    if len(word) >= FUZZY_TWO_TYPOS_FROM:
        return 2
    return 1 if len(word) >= FUZZY_SHORTEST_WORD else 0


def fuse(*ranked_lists: list[int]) -> list[int]:
    """Reciprocal rank fusion: ids ordered by the sum of 1/(RRF_K + rank) over the lists they are in."""
    scores: dict[int, float] = {}
    for ranked in ranked_lists:
        for rank, story_id in enumerate(ranked, start=1):
            scores[story_id] = scores.get(story_id, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(scores, key=lambda story_id: -scores[story_id])


# "More like this", defined once for every engine: the words of a story's RELATED_WORDS_FROM fields
# (at least RELATED_SHORTEST_WORD letters, at most RELATED_MOST_WORDS of them) looked for in other
# stories' RELATED_WORDS_IN fields, unweighted, plus extra weight for each facet value the stories
# share (RELATED_SHARED: facet -> boost; "person" is a teller or a helper).
RELATED_WORDS_FROM = ("title", "aha", "outcome")
RELATED_WORDS_IN = ("title", "aha", "context", "outcome", "themes")
RELATED_MOST_WORDS = 25
RELATED_SHORTEST_WORD = 3
RELATED_SHARED = {"theme": 4.0, "person": 1.5}


def field_boosts(index_fields: Mapping[str, str]) -> dict[str, float]:
    """Each index field's weight from the schema's weight table, in the order of `index_fields`.

    `index_fields` maps a searched document field to the engine field holding its words; an engine
    field holding several document fields (the embedded index's people_text) takes the heaviest.
    """
    weights = search_weights()
    boosts: dict[str, float] = {}
    for document_field, index_field in index_fields.items():
        boosts[index_field] = max(boosts.get(index_field, 0.0), weights[document_field])
    return boosts


def related_words(document: dict) -> str:
    """The text whose distinctive words make another story "like" this one."""
    return " ".join(document[field] for field in RELATED_WORDS_FROM)


class SearchUnavailable(Exception):
    """The index cannot be read or written right now (engine down, writer lock busy, no index yet)."""


class SearchBackend(ABC):
    """The engine behind search; settings.STORYBANK_SEARCH_BACKEND names the subclass in use."""

    name = "base"

    @classmethod
    @abstractmethod
    def from_settings(cls) -> SearchBackend:
        """A backend for the index the settings name."""

    @classmethod
    @abstractmethod
    def settings_key(cls) -> tuple:
        """The settings that locate its index: a process keeps one backend per class and key."""

    @abstractmethod
    def exists(self) -> bool:
        """Whether an index has been built (a search before that finds nothing)."""

    @abstractmethod
    def schema_is_current(self) -> bool:
        """Whether the live index was built with this version's fields (else it awaits a rebuild)."""

    @abstractmethod
    def search(
        self, query: SearchQuery, *, hidden_ids: Collection[int] = (), vector: np.ndarray | None = None
    ) -> SearchResults:
        """Hits (ids, highlights, transcript times), total and facet counts; labels are left to the caller.

        With the question's `vector`, stories close in meaning match too (unless `query.retrieval`
        is "lexical"), fused with the word matches; without it, words alone decide.
        """

    @abstractmethod
    def suggest(
        self, prefix: str, *, include_staff: bool, limit: int = 6, hidden_ids: Collection[int] = ()
    ) -> tuple[list[int], list[str]]:
        """Autocomplete: ids of stories whose title starts with `prefix`, slugs of people who might match."""

    @abstractmethod
    def related(
        self, story_id: int, *, include_staff: bool, limit: int = 3, hidden_ids: Collection[int] = ()
    ) -> list[int]:
        """Ids of the stories most like story `story_id` as the index holds it (never itself; none if not indexed).

        The engine reads the story from its own index, so a story page sends no document to compare.
        """

    @abstractmethod
    def update(self, documents: Iterable[dict] = (), delete_ids: Iterable[int] = ()) -> None:
        """Add or replace these documents and remove these ids, as one batch."""

    @abstractmethod
    def rebuild(self, documents: Iterable[dict], progress: Callable[[int], None] | None = None) -> int:
        """Build a fresh index from `documents` and swap it in atomically; returns the number indexed."""

    @abstractmethod
    def document_fingerprints(self) -> dict[int, int]:
        """Every indexed story id with the fingerprint of the document it was indexed from."""

    @abstractmethod
    def count(self) -> int:
        """How many stories the index holds (0 when there is no index)."""

    @abstractmethod
    def health(self) -> dict:
        """{"ok": bool, "backend": name, ...} for /healthz and `search_index status`."""

    @abstractmethod
    def drop_everything(self) -> None:
        """Delete every index this backend holds (tests point it at a throwaway location first)."""


def marked_html(text: str, ranges: Iterable[tuple[int, int]]) -> str:
    """`text` HTML-escaped, with <mark> around each (start, end) character range."""
    pieces: list[str] = []
    position = 0
    for start, end in sorted(ranges):
        if start < position:
            continue
        pieces.append(html.escape(text[position:start]))
        pieces.append(f"<mark>{html.escape(text[start:end])}</mark>")
        position = end
    pieces.append(html.escape(text[position:]))
    return "".join(pieces)


def byte_ranges_to_characters(text: str, ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Engines report UTF-8 byte offsets; Python slices strings by character."""
    encoded = text.encode("utf-8")

    def to_character(offset: int) -> int:
        return len(encoded[:offset].decode("utf-8", errors="ignore"))

    return [(to_character(start), to_character(end)) for start, end in ranges]
