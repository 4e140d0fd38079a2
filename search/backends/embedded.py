"""The embedded backend: a tantivy index in files under settings.SEARCH_INDEX_DIR.

Layout: each build lives in its own `v-…` folder and the `current` symlink names the live one,
so a rebuild is written beside the live index and swapped in with one atomic rename (the
embedded equivalent of an Elasticsearch alias). Only one process writes (tantivy's writer lock);
web processes read and pick up new commits and new builds as they appear.
"""

from __future__ import annotations

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

import tantivy
from django.conf import settings
from tantivy import Document, Filter, Index, Occur, Query, SchemaBuilder, SnippetGenerator

from search.backends.base import (
    FACET_SIZES,
    HIGHLIGHT_FIELDS,
    RELATED_MOST_WORDS,
    RELATED_SHARED,
    RELATED_SHORTEST_WORD,
    RELATED_WORDS_IN,
    SNIPPET_CHARACTERS,
    TRANSCRIPT_HITS_PER_STORY,
    SearchBackend,
    SearchUnavailable,
    byte_ranges_to_characters,
    field_boosts,
    marked_html,
    related_shared_values,
    related_words,
)
from search.documents import person_names, person_slugs
from search.query import FacetValue, SearchHit, SearchQuery, SearchResults, TranscriptHit

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2
TEXT_ANALYZER = "storybank_en"  # lower-cased, English stop words removed, English stemming
CURRENT_LINK = "current"
SCHEMA_FILE = "storybank-schema.json"
UPDATE_WRITER_HEAP = 50_000_000
REBUILD_WRITER_HEAP = 200_000_000
# Filter name → keyword field in the index.
FILTER_FIELDS = {
    "theme": "theme_slug",
    "person": "person_slug",
    "outcome": "outcome_slug",
    "year": "year",
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
    # Positions are only needed for phrase queries (autocomplete); term frequencies serve BM25.
    for name in TEXT_FIELDS:
        stored = name in HIGHLIGHT_FIELDS
        builder.add_text_field(name, stored=stored, tokenizer_name=TEXT_ANALYZER, index_option="freq")
    # Autocomplete: plain lower-cased words (no stemming) so prefixes match what was typed.
    builder.add_text_field("title_prefix", tokenizer_name="default")
    builder.add_text_field("people_prefix", tokenizer_name="default")
    for name in ("theme_slug", "person_slug", "outcome_slug", "source", "visibility", "language"):
        builder.add_text_field(name, stored=True, tokenizer_name="raw", fast=True)
    builder.add_integer_field("year", stored=True, indexed=True, fast=True)
    builder.add_integer_field("published", indexed=True, fast=True)
    builder.add_integer_field("helpful", indexed=True, fast=True)
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


def _timestamp(value: str | None) -> int:
    """Microseconds since the epoch: stories published in the same second still sort in order."""
    return int(datetime.fromisoformat(value).timestamp() * 1_000_000) if value else 0


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
        "helpful": document["helpful_count"],
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
        """Every word must match in some field (like Elasticsearch's cross_fields + operator "and")."""
        terms = list(dict.fromkeys(ANALYZER.analyze(text)))
        if not terms:
            return None
        per_term = []
        for term in terms:
            alternatives = [
                (Occur.Should, Query.boost_query(Query.term_query(SCHEMA, field, term), boost))
                for field, boost in field_boosts(SEARCHED_FIELDS).items()
            ]
            per_term.append((Occur.Must, Query.boolean_query(alternatives)))
        return Query.boolean_query(per_term)

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

    def search(self, query: SearchQuery, *, hidden_ids: Collection[int] = ()) -> SearchResults:
        index = self._reader()
        searcher = index.searcher()
        text_query = self.text_query(query.text) if query.text else None
        if query.text and text_query is None:
            return SearchResults(total=0, hits=[], facets={facet: [] for facet in FACET_SIZES})
        visible = self.filter_clauses(query.filters(), query.include_staff)
        main = self.combined_query(text_query, visible, hidden_ids)
        sort = query.effective_sort
        order_by = {"newest": "published", "helpful": "helpful"}.get(sort)
        result = searcher.search(
            main, limit=query.per_page, offset=query.offset, count=True, order_by_field=order_by
        )
        hits = self._hits(searcher, text_query, result.hits)
        facets = self._facets(searcher, query, text_query, hidden_ids)
        return SearchResults(total=result.count, hits=hits, facets=facets)

    def _facets(
        self, searcher, query: SearchQuery, text_query: Query | None, hidden_ids: Collection[int]
    ) -> dict[str, list[FacetValue]]:
        """Each facet counted with every filter except its own; facets sharing filters share one pass."""
        groups: dict[tuple, list[str]] = {}
        for facet in FACET_SIZES:
            key = tuple(sorted(query.filters_except(facet).items()))
            groups.setdefault(key, []).append(facet)
        facets: dict[str, list[FacetValue]] = {}
        for key, names in groups.items():
            facet_query = self.combined_query(
                text_query, self.filter_clauses(dict(key), query.include_staff), hidden_ids
            )
            aggregations = {
                name: {"terms": {"field": FILTER_FIELDS[name], "size": FACET_SIZES[name]}} for name in names
            }
            answer = searcher.aggregate(facet_query, aggregations)
            for name in names:
                buckets = answer.get(name, {}).get("buckets", [])
                facets[name] = [FacetValue(str(bucket["key"]), "", bucket["doc_count"]) for bucket in buckets]
                shown = {value.value for value in facets[name]}
                for selected in query.filters().get(name, ()):
                    if str(selected) not in shown:  # chosen, but outside the top values: count it too
                        count = self._count_with(searcher, facet_query, name, selected)
                        facets[name].append(FacetValue(str(selected), "", count))
        return facets

    def _count_with(self, searcher, facet_query: Query, facet: str, value) -> int:
        typed = int(value) if facet == "year" else str(value)
        narrowed = Query.boolean_query(
            [(Occur.Must, facet_query), (Occur.Must, Query.term_query(SCHEMA, FILTER_FIELDS[facet], typed))]
        )
        return searcher.search(narrowed, limit=1, count=True).count

    def _hits(self, searcher, text_query: Query | None, raw_hits) -> list[SearchHit]:
        generators = {}
        segment_generator = None
        if text_query is not None and raw_hits:
            for field in HIGHLIGHT_FIELDS:
                generator = SnippetGenerator.create(searcher, text_query, SCHEMA, field)
                generator.set_max_num_chars(SNIPPET_CHARACTERS)
                generators[field] = generator
            segment_generator = SnippetGenerator.create(searcher, text_query, SCHEMA, "transcript_text")
            segment_generator.set_max_num_chars(1000)
        hits = []
        for score, address in raw_hits:
            document = searcher.doc(address)
            hit = SearchHit(id=document.get_first("id"), score=float(score))
            for field, generator in generators.items():
                highlighted = self._highlight(generator, document, field)
                if highlighted:
                    hit.highlights[field] = highlighted
            if segment_generator is not None and "transcript_text" in hit.highlights:
                hit.transcript_hits = self._transcript_hits(segment_generator, document)
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
            for _, address in searcher.search(title_query, limit=limit, order_by_field="helpful").hits
        ]
        people_query = self.combined_query(
            Query.phrase_prefix_query(SCHEMA, "people_prefix", words), filters, hidden_ids
        )
        answer = searcher.aggregate(people_query, {"person": {"terms": {"field": "person_slug", "size": 50}}})
        people = [bucket["key"] for bucket in answer.get("person", {}).get("buckets", [])]
        return story_ids, people

    def related(
        self, document: dict, *, include_staff: bool, limit: int = 3, hidden_ids: Collection[int] = ()
    ) -> list[int]:
        """Stories most like this one, as base.py defines it (RELATED_WORDS_FROM, RELATED_SHARED)."""
        index = self._reader()
        searcher = index.searcher()
        words = ANALYZER.analyze(related_words(document))
        terms = [word for word in dict.fromkeys(words) if len(word) >= RELATED_SHORTEST_WORD][
            :RELATED_MOST_WORDS
        ]
        fields = [SEARCHED_FIELDS[field] for field in RELATED_WORDS_IN]
        should = []
        for term in terms:
            for field in fields:
                should.append((Occur.Should, Query.term_query(SCHEMA, field, term)))
        for facet, values in related_shared_values(document).items():
            if values:
                shared = Query.term_set_query(SCHEMA, FILTER_FIELDS[facet], values)
                should.append((Occur.Should, Query.boost_query(shared, RELATED_SHARED[facet])))
        if not should:
            return []
        clauses = [(Occur.Must, Query.boolean_query(should))]
        clauses += [(Occur.Must, _filter(clause)) for clause in self.filter_clauses({}, include_staff)]
        clauses.append((Occur.MustNot, Query.term_query(SCHEMA, "id", document["id"])))
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

    def rebuild(self, documents: Iterable[dict], progress: Callable[[int], None] | None = None) -> int:
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"v-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
        build_path = self.root / name
        build_path.mkdir()
        try:
            index = self._open(build_path)
            writer = self._writer(index, REBUILD_WRITER_HEAP, min(os.cpu_count() or 1, 4))
            count = 0
            for document in documents:
                writer.add_document(tantivy_document(document))
                count += 1
                if progress and count % 1000 == 0:
                    progress(count)
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
        shutil.rmtree(self.root, ignore_errors=True)
