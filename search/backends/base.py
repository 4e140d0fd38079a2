"""What every search backend provides, and the pieces both share (boosts, facet sizes, highlighting).

A backend knows its engine and nothing about users or HTTP: the service tells it whether
staff-only stories may be returned (`SearchQuery.include_staff`) and which story ids it must never
return (`hidden_ids`: stories whose queued update has not reached the index yet and that this
reader may not see now), and it must apply both inside the engine query so totals, facets, pages
and suggestions all agree.
"""

from __future__ import annotations

import html
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable

from search.query import SearchQuery, SearchResults

# Relative weight of a match in each field: title > aha > outcome & context > transcript.
FIELD_BOOSTS = {
    "title": 5.0,
    "aha": 3.0,
    "outcome": 2.0,
    "context": 2.0,
    "people_text": 2.0,
    "themes_text": 2.0,
    "outcomes_text": 1.5,
    "transcript_text": 1.0,
    "body": 1.0,
}
# Fields whose matches are shown as highlighted snippets, in the order a reader sees them.
HIGHLIGHT_FIELDS = ("title", "aha", "context", "outcome", "body", "transcript_text")
FACET_SIZES = {"theme": 30, "person": 30, "outcome": 20, "year": 50}
TRANSCRIPT_HITS_PER_STORY = 5
SNIPPET_CHARACTERS = 220


class SearchUnavailable(Exception):
    """The index cannot be read or written right now (engine down, writer lock busy, no index yet)."""


class SearchBackend(ABC):
    name = "base"

    @abstractmethod
    def exists(self) -> bool:
        """Whether an index has been built (a search before that finds nothing)."""

    @abstractmethod
    def search(self, query: SearchQuery, *, hidden_ids: Collection[int] = ()) -> SearchResults:
        """Hits (ids, highlights, transcript times), total and facet counts; labels are left to the caller."""

    @abstractmethod
    def suggest(
        self, prefix: str, *, include_staff: bool, limit: int = 6, hidden_ids: Collection[int] = ()
    ) -> tuple[list[int], list[str]]:
        """Autocomplete: ids of stories whose title starts with `prefix`, slugs of people who might match."""

    @abstractmethod
    def related(
        self, document: dict, *, include_staff: bool, limit: int = 3, hidden_ids: Collection[int] = ()
    ) -> list[int]:
        """Ids of the stories most like this one (never the story itself)."""

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
