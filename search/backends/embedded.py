"""The embedded backend: a tantivy index in files under settings.SEARCH_INDEX_DIR.

Layout: each build lives in its own `v-…` folder and the `current` symlink names the live one,
so a rebuild is written beside the live index and swapped in with one atomic rename (the
embedded equivalent of an Elasticsearch alias). Only one process writes (tantivy's writer lock);
web processes read and pick up new commits and new builds as they appear.
"""

from __future__ import annotations

import html
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from pathlib import Path

import numpy as np
import tantivy
from django.conf import settings
from tantivy import Document, Filter, Index, Occur, Query, SchemaBuilder, SnippetGenerator

from search.backends.base import (
    ALL_WORDS_BOOST,
    FACET_SIZES,
    FUZZY_BOOST,
    FUZZY_FIELDS,
    HIGHLIGHT_FIELDS,
    PHRASE_BOOST,
    PHRASE_FIELDS,
    PHRASE_SLOP,
    QUESTION_WORDS,
    RELATED_MOST_WORDS,
    RELATED_SHARED,
    RELATED_SHORTEST_WORD,
    RELATED_WORDS_FROM,
    RELATED_WORDS_IN,
    SEMANTIC_CANDIDATES,
    SEMANTIC_MIN_SIMILARITY,
    SNIPPET_CHARACTERS,
    TRANSCRIPT_HITS_PER_STORY,
    SearchBackend,
    SearchUnavailable,
    byte_ranges_to_characters,
    field_boosts,
    fuse,
    fuzzy_distance,
    marked_html,
    related_words,
    required_words,
)
from search.backends.vectors import NearStory, VectorReader, write_vectors
from search.documents import person_names, person_slugs
from search.query import FacetValue, SearchHit, SearchQuery, SearchResults, TranscriptHit

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 4
TEXT_ANALYZER = "storybank_en"  # lower-cased, English stop words removed, English stemming
CURRENT_LINK = "current"
SCHEMA_FILE = "storybank-schema.json"
UPDATE_WRITER_HEAP = 50_000_000
REBUILD_WRITER_HEAP = 200_000_000
# Filter name → keyword field in the index.
MATCHES = "_matches"  # the aggregation that counts a query's matches (no facet is named so)
FILTER_FIELDS = {
    "theme": "theme_slug",
    "person": "person_slug",
    "outcome": "outcome_slug",
    "year": "year",
    "language": "language",
    "source": "source",
}
# Searched document field -> the index field holding its words, in the index's field order.
SEARCHED_FIELDS = {
    "title": "title",
    "aha": "aha",
    "outcome": "outcome",
    "context": "context",
    "teller": "people_text",
    "people": "people_text",
    "themes": "themes_text",
    "outcome_types": "outcomes_text",
    "transcript_text": "transcript_text",
    "body": "body",
}
TEXT_FIELDS = tuple(dict.fromkeys(SEARCHED_FIELDS.values()))


def build_schema():
    builder = SchemaBuilder()
    builder.add_integer_field("id", stored=True, indexed=True, fast=True)
    builder.add_integer_field("fingerprint", stored=True, fast=True)
    # Positions serve the phrase boost (words close together rank higher) and autocomplete.
    for name in TEXT_FIELDS:
        stored = name in HIGHLIGHT_FIELDS
        builder.add_text_field(name, stored=stored, tokenizer_name=TEXT_ANALYZER, index_option="position")
    # Autocomplete: plain lower-cased words (no stemming) so prefixes match what was typed.
    builder.add_text_field("title_prefix", tokenizer_name="default")
    builder.add_text_field("people_prefix", tokenizer_name="default")
    for name in ("theme_slug", "person_slug", "outcome_slug", "source", "visibility", "language"):
        builder.add_text_field(name, stored=True, tokenizer_name="raw", fast=True)
    builder.add_integer_field("year", stored=True, indexed=True, fast=True)
    builder.add_integer_field("published", indexed=True, fast=True)
    builder.add_integer_field("helpful_rank", fast=True)
    builder.add_bytes_field("segments", stored=True)
    return builder.build()


SCHEMA = build_schema()


def text_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(Filter.remove_long(40))
        .filter(Filter.lowercase())
        .filter(Filter.ascii_fold())
        .filter(Filter.stopword("english"))
        .filter(Filter.stemmer("english"))
        .build()
    )


def prefix_analyzer() -> tantivy.TextAnalyzer:
    """Same as tantivy's "default" tokenizer, for splitting what someone is typing."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(Filter.remove_long(40))
        .filter(Filter.lowercase())
        .build()
    )


ANALYZER = text_analyzer()
PREFIX_ANALYZER = prefix_analyzer()


def query_words(text: str) -> dict[str, str]:
    """Each distinct term of `text` as indexed (stemmed, stop words gone), with the longest word typed for it."""
    words: dict[str, str] = {}
    for typed in PREFIX_ANALYZER.analyze(text):
        if typed in QUESTION_WORDS:
            continue
        for term in ANALYZER.analyze(typed):
            if len(typed) > len(words.get(term, "")):
                words[term] = typed
    return words


def _timestamp(value: str | None) -> int:
    """Microseconds since the epoch: stories published in the same second still sort in order."""
    return int(datetime.fromisoformat(value).timestamp() * 1_000_000) if value else 0


def helpful_rank(document: dict) -> int:
    """Most helpful first, then newest, in one number: tantivy sorts by one fast field, and the
    database and Elasticsearch break ties between equally helpful stories by publication."""
    published_ms = min(max(_timestamp(document["first_published_at"]) // 1000, 0), 2**42 - 1)  # to 2109
    return (min(max(document["helpful_count"], 0), 2**20 - 1) << 42) | published_ms


def tantivy_document(document: dict) -> Document:
    """The story document in this index's fields."""
    words: dict[str, list[str]] = {}
    for document_field, index_field in SEARCHED_FIELDS.items():
        words.setdefault(index_field, []).extend(_words(document[document_field]))
    fields = {
        "id": document["id"],
        "fingerprint": document["fingerprint"],
        **{index_field: " ".join(parts) for index_field, parts in words.items()},
        "title_prefix": document["title"],
        "people_prefix": " ".join(person_names(document)),
        "theme_slug": [theme["slug"] for theme in document["themes"]],
        "person_slug": person_slugs(document),
        "outcome_slug": [outcome["slug"] for outcome in document["outcome_types"]],
        "source": document["source"],
        "visibility": document["visibility"],
        "language": document["language"],
        "published": _timestamp(document["first_published_at"]),
        "helpful_rank": helpful_rank(document),
        "segments": json.dumps(document["transcript"]).encode(),
    }
    if document["year"]:
        fields["year"] = document["year"]
    # Plain keyword construction is about twice as fast as from_dict(); every number field is i64.
    return Document(**{key: value for key, value in fields.items() if value != []})


def _words(value) -> list[str]:
    """A document field as text: itself, or the names of the person or terms it holds."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [value["name"]]
    return [item["name"] for item in value]


def _vectors_of(documents: Iterable[dict]) -> list[tuple[int, np.ndarray]]:
    return [
        (document["id"], document["vectors"]) for document in documents if document.get("vectors") is not None
    ]


def _filter(query: Query) -> Query:
    """A clause that narrows without changing relevance scores."""
    return Query.const_score_query(query, 0.0)


def _hidden(hidden_ids: Collection[int]) -> list[tuple[Occur, Query]]:
    """Leave these stories out of hits, totals and facets alike."""
    if not hidden_ids:
        return []
    return [(Occur.MustNot, Query.term_set_query(SCHEMA, "id", sorted(int(pk) for pk in hidden_ids)))]


class EmbeddedBackend(SearchBackend):
    name = "embedded"

    def __init__(self, root: Path):
        self.root = Path(root)
        self._lock = threading.Lock()
        self._index: Index | None = None
        self._opened_target: str | None = None
        self._meta_signature: tuple | None = None
        self._vector_reader: VectorReader | None = None

    @classmethod
    def from_settings(cls) -> EmbeddedBackend:
        return cls(settings.SEARCH_INDEX_DIR)

    @classmethod
    def settings_key(cls) -> tuple:
        return (str(settings.SEARCH_INDEX_DIR),)

    # -- files -----------------------------------------------------------------------------------

    @property
    def current_link(self) -> Path:
        return self.root / CURRENT_LINK

    def _current_target(self) -> str | None:
        try:
            return os.readlink(self.current_link)
        except OSError:
            return None

    def exists(self) -> bool:
        target = self._current_target()
        return bool(target) and (self.root / target / "meta.json").exists()

    def schema_is_current(self) -> bool:
        target = self._current_target()
        if not target:
            return False
        try:
            recorded = json.loads((self.root / target / SCHEMA_FILE).read_text())
        except (OSError, ValueError):
            return False
        return recorded.get("schema_version") == SCHEMA_VERSION

    @staticmethod
    def _open(path: Path) -> Index:
        index = Index(SCHEMA, path=str(path), reuse=True)
        index.register_tokenizer(TEXT_ANALYZER, ANALYZER)
        return index

    def _reader(self) -> Index:
        """The live index, reopened after a rebuild swap and reloaded after new commits."""
        target = self._current_target()
        if not target or not (self.root / target / "meta.json").exists():
            raise SearchUnavailable("the search index has not been built yet")
        with self._lock:
            if self._index is None or target != self._opened_target:
                if not self.schema_is_current():
                    raise SearchUnavailable(
                        "the search index was built by an older version and awaits a rebuild"
                    )
                try:
                    self._index = self._open(self.root / target)
                except ValueError as error:
                    raise SearchUnavailable(f"the search index cannot be opened: {error}") from error
                self._opened_target = target
                self._meta_signature = None
                self._vector_reader = VectorReader(self.root / target)
            meta = self.root / target / "meta.json"
            try:
                stat = meta.stat()
                signature = (stat.st_mtime_ns, stat.st_size)
            except OSError:
                signature = None
            if signature != self._meta_signature:
                self._index.reload()
                self._meta_signature = signature
            return self._index

    # -- reading ---------------------------------------------------------------------------------

    def text_query(self, text: str) -> Query | None:
        """Stories with enough of the words in any field, ranked by BM25 with the schema's weights.

        The rules (how many words, typos, phrase and all-words boosts) are base.py's, shared with
        Elasticsearch; see `required_words`.
        """
        words = query_words(text)
        if not words:
            return None
        boosts = field_boosts(SEARCHED_FIELDS)
        fuzzy_fields = {SEARCHED_FIELDS[field] for field in FUZZY_FIELDS}
        per_word = []
        for term, typed in words.items():
            alternatives = [
                (Occur.Should, Query.boost_query(Query.term_query(SCHEMA, field, term), boost))
                for field, boost in boosts.items()
            ]
            distance = fuzzy_distance(typed)
            if distance:
                alternatives += [
                    (
                        Occur.Should,
                        Query.boost_query(
                            Query.fuzzy_term_query(SCHEMA, field, term, distance=distance),
                            FUZZY_BOOST * boosts[field],
                        ),
                    )
                    for field in boosts
                    if field in fuzzy_fields
                ]
            per_word.append(Query.boolean_query(alternatives))
        terms = list(words)
        matching = Query.boolean_query(
            [(Occur.Should, query) for query in per_word],
            minimum_number_should_match=required_words(len(terms)),
        )
        clauses = [(Occur.Must, matching)]
        if len(terms) > 1:
            every_word = Query.boolean_query([(Occur.Must, query) for query in per_word])
            clauses.append((Occur.Should, Query.boost_query(every_word, ALL_WORDS_BOOST)))
            for field in PHRASE_FIELDS:
                index_field = SEARCHED_FIELDS[field]
                phrase = Query.phrase_query(SCHEMA, index_field, terms, slop=PHRASE_SLOP)
                clauses.append((Occur.Should, Query.boost_query(phrase, PHRASE_BOOST * boosts[index_field])))
        return Query.boolean_query(clauses)

    @staticmethod
    def highlight_query(text: str) -> Query | None:
        """The words as plain terms: what snippets mark (fuzzy and phrase clauses add no new words)."""
        words = query_words(text)
        if not words:
            return None
        return Query.boolean_query(
            [(Occur.Should, Query.term_query(SCHEMA, field, term)) for term in words for field in TEXT_FIELDS]
        )

    def filter_clauses(self, filters: dict[str, tuple], include_staff: bool) -> list[Query]:
        clauses = []
        if not include_staff:
            clauses.append(Query.term_query(SCHEMA, "visibility", "public"))
        for name, values in filters.items():
            field = FILTER_FIELDS[name]
            typed = [int(value) for value in values] if name == "year" else [str(value) for value in values]
            clauses.append(Query.term_set_query(SCHEMA, field, typed))
        return clauses

    def combined_query(
        self, text_query: Query | None, filters: list[Query], hidden_ids: Collection[int] = ()
    ) -> Query:
        clauses = [(Occur.Must, text_query if text_query is not None else Query.all_query())]
        clauses += [(Occur.Must, _filter(clause)) for clause in filters]
        clauses += _hidden(hidden_ids)
        return Query.boolean_query(clauses)

    def search(
        self, query: SearchQuery, *, hidden_ids: Collection[int] = (), vector: np.ndarray | None = None
    ) -> SearchResults:
        index = self._reader()
        searcher = index.searcher()
        lexical = self.text_query(query.text) if query.text and query.retrieval != "semantic" else None
        near: list[NearStory] = []
        if query.text and vector is not None and query.retrieval != "lexical":
            near = self._near(searcher, vector, query.include_staff, hidden_ids)
        if query.text and lexical is None and not near:
            return SearchResults(total=0, hits=[], facets={facet: [] for facet in FACET_SIZES})
        matched = self._matched(lexical, near) if query.text else None
        visible = self.filter_clauses(query.filters(), query.include_staff)
        main = self.combined_query(matched, visible, hidden_ids)
        sort = query.effective_sort
        counted = not query.ranking_only
        facets, total = self._facets(searcher, query, matched, hidden_ids) if counted else ({}, None)
        if sort == "relevance" and near:
            raw_hits = self._fused_page(searcher, query, lexical, near, visible, hidden_ids)
            if total is None:
                total = searcher.search(main, limit=1, count=True).count if counted else len(raw_hits)
        else:
            order_by = {"newest": "published", "helpful": "helpful_rank"}.get(sort)
            count = counted and total is None
            result = searcher.search(
                main, limit=query.per_page, offset=query.offset, count=count, order_by_field=order_by
            )
            raw_hits = result.hits
            if total is None:
                total = result.count if count else len(result.hits)
        highlight = self.highlight_query(query.text) if query.text else None
        fields = ("transcript_text",) if query.ranking_only else HIGHLIGHT_FIELDS
        near_by_id = {story.story_id: story for story in near}
        hits = self._hits(searcher, highlight, raw_hits, near_by_id, fields, shown=query.highlighted)
        return SearchResults(total=total, hits=hits, facets=facets)

    @staticmethod
    def _matched(lexical: Query | None, near: list[NearStory]) -> Query:
        """What the text matches: its words, or a story close in meaning (both count, and are counted)."""
        if not near:
            return lexical
        semantic = _filter(Query.term_set_query(SCHEMA, "id", [story.story_id for story in near]))
        if lexical is None:
            return semantic
        return Query.boolean_query([(Occur.Should, lexical), (Occur.Should, semantic)])

    def _ids_matching(
        self, searcher, story_ids: list[int], filters: list[Query], hidden_ids: Collection[int]
    ) -> set[int]:
        """Which of these stories pass the filters (visibility, facets, hidden ones), asked of the index."""
        if not story_ids:
            return set()
        candidates = self.combined_query(Query.term_set_query(SCHEMA, "id", story_ids), filters, hidden_ids)
        result = searcher.search(candidates, limit=len(story_ids))
        return set(searcher.fast_field_values("id", [address for _, address in result.hits]))

    def _near(
        self, searcher, vector: np.ndarray, include_staff: bool, hidden_ids: Collection[int]
    ) -> list[NearStory]:
        """The stories this reader may see that are closest in meaning to the question, closest first."""
        reader = self._vector_reader
        if reader is None:
            return []
        candidates = reader.nearest(vector, minimum=SEMANTIC_MIN_SIMILARITY, limit=SEMANTIC_CANDIDATES * 4)
        allowed = self._ids_matching(
            searcher,
            [story.story_id for story in candidates],
            self.filter_clauses({}, include_staff),
            hidden_ids,
        )
        return [story for story in candidates if story.story_id in allowed][:SEMANTIC_CANDIDATES]

    def _fused_page(
        self,
        searcher,
        query: SearchQuery,
        lexical: Query | None,
        near: list[NearStory],
        filters: list[Query],
        hidden_ids: Collection[int],
    ) -> list[tuple[float, object]]:
        """One page of the word and meaning lists fused (base.fuse), as (score, address) pairs.

        The word list is read to the end of this page, and at least as deep as the meaning list
        (SEMANTIC_CANDIDATES): a story found both ways scores from both lists, so read only to
        the end of page 1 the word list would leave out the word score of a story it ranks 15th,
        page 2 would rank it higher, and a story could show on both pages.
        """
        depth = query.offset + query.per_page
        lexical_ids: list[int] = []
        if lexical is not None:
            read = max(depth, SEMANTIC_CANDIDATES)
            result = searcher.search(self.combined_query(lexical, filters, hidden_ids), limit=read)
            lexical_ids = searcher.fast_field_values("id", [address for _, address in result.hits])
        near_ids = [story.story_id for story in near]
        passing = self._ids_matching(searcher, near_ids, filters, hidden_ids)
        fused = fuse(lexical_ids, [story_id for story_id in near_ids if story_id in passing])
        page = fused[query.offset : depth]
        if not page:
            return []
        found = searcher.search(Query.term_set_query(SCHEMA, "id", page), limit=len(page))
        addresses = dict(
            zip(
                searcher.fast_field_values("id", [a for _, a in found.hits]),
                [a for _, a in found.hits],
                strict=True,
            )
        )
        rank_of = {story_id: rank for rank, story_id in enumerate(page)}
        return [
            (1.0 / (1 + rank_of[story_id]), addresses[story_id]) for story_id in page if story_id in addresses
        ]

    def _facets(
        self, searcher, query: SearchQuery, text_query: Query | None, hidden_ids: Collection[int]
    ) -> tuple[dict[str, list[FacetValue]], int | None]:
        """Each facet counted with every filter except its own; facets sharing filters share one pass.

        The pass whose filters are all of the query's also counts the matches: the total, without
        a search of its own (None when every facet is filtered, so no pass has them all).
        """
        groups: dict[tuple, list[str]] = {}
        for facet in FACET_SIZES:
            key = tuple(sorted(query.filters_except(facet).items()))
            groups.setdefault(key, []).append(facet)
        every_filter = tuple(sorted(query.filters().items()))
        facets: dict[str, list[FacetValue]] = {}
        total = None
        for key, names in groups.items():
            facet_query = self.combined_query(
                text_query, self.filter_clauses(dict(key), query.include_staff), hidden_ids
            )
            aggregations = {
                name: {"terms": {"field": FILTER_FIELDS[name], "size": FACET_SIZES[name]}} for name in names
            }
            if key == every_filter:
                aggregations[MATCHES] = {"value_count": {"field": "id"}}
            answer = searcher.aggregate(facet_query, aggregations)
            if key == every_filter:
                total = int(answer.get(MATCHES, {}).get("value") or 0)
            for name in names:
                buckets = answer.get(name, {}).get("buckets", [])
                facets[name] = [FacetValue(str(bucket["key"]), "", bucket["doc_count"]) for bucket in buckets]
                shown = {value.value for value in facets[name]}
                for selected in query.filters().get(name, ()):
                    if str(selected) not in shown:  # chosen, but outside the top values: count it too
                        count = self._count_with(searcher, facet_query, name, selected)
                        facets[name].append(FacetValue(str(selected), "", count))
        return facets, total

    def _count_with(self, searcher, facet_query: Query, facet: str, value) -> int:
        typed = int(value) if facet == "year" else str(value)
        narrowed = Query.boolean_query(
            [(Occur.Must, facet_query), (Occur.Must, Query.term_query(SCHEMA, FILTER_FIELDS[facet], typed))]
        )
        return searcher.search(narrowed, limit=1, count=True).count

    def _hits(
        self,
        searcher,
        text_query: Query | None,
        raw_hits,
        near: dict[int, NearStory] | None = None,
        fields: tuple[str, ...] = HIGHLIGHT_FIELDS,
        shown: int | None = None,
    ) -> list[SearchHit]:
        """The hits with their highlights in `fields` and the transcript moments they point at.

        Past the first `shown` hits (unless None) only the transcript is highlighted: its moments.
        """
        generators = {}
        segment_generator = None
        if text_query is not None and raw_hits:
            for field in fields:
                generator = SnippetGenerator.create(searcher, text_query, SCHEMA, field)
                generator.set_max_num_chars(SNIPPET_CHARACTERS)
                generators[field] = generator
            segment_generator = SnippetGenerator.create(searcher, text_query, SCHEMA, "transcript_text")
            segment_generator.set_max_num_chars(1000)
        hits = []
        for position, (score, address) in enumerate(raw_hits):
            document = searcher.doc(address)
            hit = SearchHit(id=document.get_first("id"), score=float(score))
            for field, generator in generators.items():
                if shown is not None and position >= shown and field != "transcript_text":
                    continue
                highlighted = self._highlight(generator, document, field)
                if highlighted:
                    hit.highlights[field] = highlighted
            if segment_generator is not None and "transcript_text" in hit.highlights:
                hit.transcript_hits = self._transcript_hits(segment_generator, document)
            closest = (near or {}).get(hit.id)
            if not hit.transcript_hits and closest is not None and closest.position:
                hit.transcript_hits = self._moment(document, closest.position)
            hits.append(hit)
        return hits

    @staticmethod
    def _highlight(generator, document, field: str) -> str:
        """The matching passage with <mark>s; short fields are shown whole, long ones as a fragment."""
        snippet = generator.snippet_from_doc(document)
        ranges = [(part.start, part.end) for part in snippet.highlighted()]
        if not ranges:
            return ""
        full_text = document.get_first(field) or ""
        if len(full_text) <= SNIPPET_CHARACTERS:
            offset = snippet.fragment_range().start
            shifted = [(start + offset, end + offset) for start, end in ranges]
            return marked_html(full_text, byte_ranges_to_characters(full_text, shifted))
        fragment = snippet.fragment()
        return marked_html(fragment, byte_ranges_to_characters(fragment, ranges)) + " …"

    @staticmethod
    def _moment(document, position: int) -> list[TranscriptHit]:
        """The transcript segment closest in meaning to the question (a semantic hit points at it)."""
        raw = document.get_first("segments")
        segments = json.loads(bytes(raw)) if raw else []
        if not 0 < position <= len(segments):
            return []
        segment = segments[position - 1]
        return [
            TranscriptHit(segment["start"], segment["end"], segment["text"], html.escape(segment["text"]))
        ]

    @staticmethod
    def _transcript_hits(generator, document) -> list[TranscriptHit]:
        """The transcript segments that contain a searched word, with their start times."""
        raw = document.get_first("segments")
        segments = json.loads(bytes(raw)) if raw else []
        found = []
        for segment in segments:
            snippet = generator.snippet_from_doc(Document(transcript_text=segment["text"]))
            ranges = [(part.start, part.end) for part in snippet.highlighted()]
            if not ranges:
                continue
            text = segment["text"]
            characters = byte_ranges_to_characters(text, [(start, end) for start, end in ranges])
            found.append(TranscriptHit(segment["start"], segment["end"], text, marked_html(text, characters)))
            if len(found) >= TRANSCRIPT_HITS_PER_STORY:
                break
        return found

    def suggest(
        self, prefix: str, *, include_staff: bool, limit: int = 6, hidden_ids: Collection[int] = ()
    ) -> tuple[list[int], list[str]]:
        words = PREFIX_ANALYZER.analyze(prefix)
        if not words:
            return [], []
        index = self._reader()
        searcher = index.searcher()
        filters = self.filter_clauses({}, include_staff)
        title_query = self.combined_query(
            Query.phrase_prefix_query(SCHEMA, "title_prefix", words), filters, hidden_ids
        )
        story_ids = [
            searcher.doc(address).get_first("id")
            for _, address in searcher.search(title_query, limit=limit, order_by_field="helpful_rank").hits
        ]
        people_query = self.combined_query(
            Query.phrase_prefix_query(SCHEMA, "people_prefix", words), filters, hidden_ids
        )
        answer = searcher.aggregate(people_query, {"person": {"terms": {"field": "person_slug", "size": 50}}})
        people = [bucket["key"] for bucket in answer.get("person", {}).get("buckets", [])]
        return story_ids, people

    def related(
        self, story_id: int, *, include_staff: bool, limit: int = 3, hidden_ids: Collection[int] = ()
    ) -> list[int]:
        """Stories most like this one, as base.py defines it (RELATED_WORDS_FROM, RELATED_SHARED).

        The story's words and facet values are read from its stored fields (the RELATED_WORDS_FROM
        fields are stored for highlighting), so nothing is rebuilt from the database.
        """
        index = self._reader()
        searcher = index.searcher()
        story_id = int(story_id)
        found = searcher.search(Query.term_query(SCHEMA, "id", story_id), limit=1).hits
        if not found:
            return []
        story = searcher.doc(found[0][1])
        text = {field: story.get_first(SEARCHED_FIELDS[field]) or "" for field in RELATED_WORDS_FROM}
        words = ANALYZER.analyze(related_words(text))
        terms = [word for word in dict.fromkeys(words) if len(word) >= RELATED_SHORTEST_WORD][
            :RELATED_MOST_WORDS
        ]
        fields = [SEARCHED_FIELDS[field] for field in RELATED_WORDS_IN]
        should = []
        for term in terms:
            for field in fields:
                should.append((Occur.Should, Query.term_query(SCHEMA, field, term)))
        for facet, boost in RELATED_SHARED.items():
            values = story.get_all(FILTER_FIELDS[facet])
            if values:
                shared = Query.term_set_query(SCHEMA, FILTER_FIELDS[facet], values)
                should.append((Occur.Should, Query.boost_query(shared, boost)))
        if not should:
            return []
        clauses = [(Occur.Must, Query.boolean_query(should))]
        clauses += [(Occur.Must, _filter(clause)) for clause in self.filter_clauses({}, include_staff)]
        clauses.append((Occur.MustNot, Query.term_query(SCHEMA, "id", story_id)))
        clauses += _hidden(hidden_ids)
        result = searcher.search(Query.boolean_query(clauses), limit=limit)
        return [searcher.doc(address).get_first("id") for _, address in result.hits]

    def count(self) -> int:
        try:
            return self._reader().searcher().num_docs
        except SearchUnavailable:
            return 0

    def document_fingerprints(self) -> dict[int, int]:
        try:
            searcher = self._reader().searcher()
        except SearchUnavailable:
            return {}
        total = searcher.num_docs
        if not total:
            return {}
        addresses = [address for _, address in searcher.search(Query.all_query(), limit=total).hits]
        ids = searcher.fast_field_values("id", addresses)
        fingerprints = searcher.fast_field_values("fingerprint", addresses)
        return dict(zip(ids, fingerprints, strict=True))

    def health(self) -> dict:
        if not self.exists():
            return {"ok": True, "backend": self.name, "documents": 0, "index": "not built yet"}
        try:
            documents = self._reader().searcher().num_docs
        except Exception as error:
            return {"ok": False, "backend": self.name, "error": str(error)}
        return {"ok": True, "backend": self.name, "documents": documents}

    # -- writing ---------------------------------------------------------------------------------

    def _writer(self, index: Index, heap_size: int, threads: int):
        try:
            return index.writer(heap_size=heap_size, num_threads=threads)
        except ValueError as error:
            if "LockBusy" in str(error) or "lock" in str(error).lower():
                raise SearchUnavailable("another process is writing the search index") from error
            raise

    def update(self, documents: Iterable[dict] = (), delete_ids: Iterable[int] = ()) -> None:
        if not self.exists():
            raise SearchUnavailable("the search index has not been built yet")
        index = self._reader()
        documents, delete_ids = list(documents), list(delete_ids)
        writer = self._writer(index, UPDATE_WRITER_HEAP, 1)
        try:
            for story_id in delete_ids:
                writer.delete_documents_by_term("id", int(story_id))
            for document in documents:
                writer.delete_documents_by_term("id", int(document["id"]))
                writer.add_document(tantivy_document(document))
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()
        index.reload()
        # A story without new vectors keeps its old ones until the worker has embedded its new text.
        write_vectors(self.root / self._current_target(), _vectors_of(documents), delete_ids)

    def rebuild(self, documents: Iterable[dict], progress: Callable[[int], None] | None = None) -> int:
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"v-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
        build_path = self.root / name
        build_path.mkdir()
        try:
            index = self._open(build_path)
            writer = self._writer(index, REBUILD_WRITER_HEAP, min(os.cpu_count() or 1, 4))
            count = 0
            vectors: list[dict] = []
            for document in documents:
                writer.add_document(tantivy_document(document))
                vectors.append(document)
                count += 1
                if count % 1000 == 0:
                    write_vectors(build_path, _vectors_of(vectors))
                    vectors = []
                    if progress:
                        progress(count)
            write_vectors(build_path, _vectors_of(vectors))
            writer.commit()
            writer.wait_merging_threads()
            (build_path / SCHEMA_FILE).write_text(json.dumps({"schema_version": SCHEMA_VERSION}))
        except BaseException:
            shutil.rmtree(build_path, ignore_errors=True)
            raise
        self._swap_current(name)
        if progress:
            progress(count)
        return count

    def _swap_current(self, name: str) -> None:
        """Point `current` at the new build in one rename, then remove the builds nobody points at."""
        temporary_link = self.root / f".{CURRENT_LINK}-{uuid.uuid4().hex[:6]}"
        os.symlink(name, temporary_link)
        os.replace(temporary_link, self.current_link)
        for path in self.root.iterdir():
            if path.is_dir() and path.name.startswith("v-") and path.name != name:
                shutil.rmtree(path, ignore_errors=True)

    def drop_everything(self) -> None:
        with self._lock:
            self._index = None
            self._opened_target = None
            self._meta_signature = None
            self._vector_reader = None
        shutil.rmtree(self.root, ignore_errors=True)
