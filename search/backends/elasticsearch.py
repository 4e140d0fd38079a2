"""The Elasticsearch backend (chosen by default when settings.ELASTICSEARCH_URL is set), built with elasticsearch.dsl.

Each build is a versioned index (`<alias>-v<time>-<random>`) behind the alias
settings.ELASTICSEARCH_INDEX; a rebuild fills a new index and moves the alias in one atomic
update_aliases call, so searches never see a half-built index. Request bodies are built by pure
functions (search_request, suggest_requests, related_request) so tests can check them exactly.
"""

from __future__ import annotations

import html
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from elasticsearch import ApiError, Elasticsearch, TransportError, helpers
from elasticsearch.dsl import Q, Search

from search.backends.base import (
    ALL_WORDS_BOOST,
    FACET_SIZES,
    FUZZY_BOOST,
    FUZZY_FIELDS,
    FUZZY_SHORTEST_WORD,
    FUZZY_TWO_TYPOS_FROM,
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
    field_boosts,
    minimum_should_match,
)
from search.documents import copied_fields, person_names, person_slugs
from search.query import FacetValue, SearchHit, SearchQuery, SearchResults, TranscriptHit
from stories.schema import Kind
from storybank.redaction import redact_credentials

SCHEMA_VERSION = 2
# What is typed is analysed like the English text fields, minus base.QUESTION_WORDS.
QUESTION_ANALYZER = "question"
# The transcript segment closest in meaning comes back as this inner hit.
MOMENT = "moment"
# kNN scores (cosine, scaled to 0..1) are added to BM25's, weighted by this. Not yet tuned against
# a live cluster: no Elasticsearch server can run where this was written (see README).
SEMANTIC_BOOST = 10.0
# Filter name → keyword field.
FILTER_FIELDS = {
    "theme": "themes.slug",
    "person": "person",
    "outcome": "outcome_types.slug",
    "year": "year",
    "language": "language",
    "source": "source",
}
# Searched document field -> the mapped field holding its words, in the order requests list them.
SEARCHED_FIELDS = {
    "title": "title",
    "aha": "aha",
    "outcome": "outcome",
    "context": "context",
    "teller": "teller.name",
    "people": "people.name",
    "themes": "themes.name",
    "outcome_types": "outcome_types.name",
    "transcript_text": "transcript_text",
    "body": "body",
}
TITLE_SUGGEST_FIELDS = ["title.suggest", "title.suggest._2gram", "title.suggest._3gram"]
PEOPLE_SUGGEST_FIELDS = ["person_names", "person_names._2gram", "person_names._3gram"]
HIGHLIGHT_TAGS = {"pre_tags": ["<mark>"], "post_tags": ["</mark>"], "encoder": "html"}

ENGLISH_TEXT = {"type": "text", "analyzer": "english"}
# How a field the schema copies into the document is mapped, by its kind.
KIND_MAPPINGS = {
    Kind.LINE: ENGLISH_TEXT,
    Kind.TEXT: ENGLISH_TEXT,
    Kind.DATE: {"type": "date"},
    Kind.CHOICE: {"type": "keyword"},
    Kind.COUNT: {"type": "integer"},
}
# Dimensions are taken from the first vector indexed, so any embedding model fits.
VECTOR = {"type": "dense_vector", "index": True, "similarity": "cosine"}
NAMED = {
    "properties": {
        "name": {"type": "text", "analyzer": "english", "fields": {"keyword": {"type": "keyword"}}},
        "slug": {"type": "keyword"},
    }
}


def search_fields(document_fields: Iterable[str] | None = None, scale: float = 1.0) -> list[str]:
    """A multi_match field list, each with its weight from the schema ("title^5"; 1 is left out).

    All searched fields by default, or just `document_fields`; weights multiplied by `scale`.
    """
    boosts = field_boosts(SEARCHED_FIELDS)
    wanted = None if document_fields is None else {SEARCHED_FIELDS[field] for field in document_fields}
    return [
        field if boost * scale == 1 else f"{field}^{boost * scale:g}"
        for field, boost in boosts.items()
        if wanted is None or field in wanted
    ]


def copied_field_mappings() -> dict:
    """The mapping of each field the schema copies into the document; title is mapped by hand."""
    return {
        story_field.document_field: KIND_MAPPINGS[story_field.kind]
        for story_field in copied_fields()
        if story_field.document_field != "title"
    }


def index_definition() -> dict:
    """Settings and the explicit mapping of a story index (dynamic fields are refused)."""
    return {
        "settings": {
            "number_of_shards": 1,
            "analysis": {
                "filter": {
                    "english_possessive": {"type": "stemmer", "language": "possessive_english"},
                    "english_stemmer": {"type": "stemmer", "language": "english"},
                    "question_words": {"type": "stop", "stopwords": sorted(QUESTION_WORDS)},
                },
                "analyzer": {
                    "folded": {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": ["lowercase", "asciifolding"],
                    },
                    QUESTION_ANALYZER: {
                        "type": "custom",
                        "tokenizer": "standard",
                        "filter": ["english_possessive", "lowercase", "question_words", "english_stemmer"],
                    },
                },
            },
        },
        "mappings": {
            "dynamic": "strict",
            "_meta": {"schema_version": SCHEMA_VERSION},
            "properties": {
                **copied_field_mappings(),
                "id": {"type": "long"},
                "fingerprint": {"type": "long"},
                "url": {"type": "keyword", "index": False},
                "title": {
                    "type": "text",
                    "analyzer": "english",
                    "fields": {
                        "keyword": {"type": "keyword", "ignore_above": 256},
                        "suggest": {"type": "search_as_you_type", "analyzer": "folded"},
                    },
                },
                "teller": NAMED,
                "people": NAMED,
                "themes": NAMED,
                "outcome_types": NAMED,
                "person": {"type": "keyword"},
                "person_names": {"type": "search_as_you_type", "analyzer": "folded"},
                "body": ENGLISH_TEXT,
                "transcript_text": ENGLISH_TEXT,
                "transcript": {
                    "type": "nested",
                    "properties": {
                        "start": {"type": "float"},
                        "end": {"type": "float"},
                        "text": ENGLISH_TEXT,
                        "embedding": VECTOR,
                    },
                },
                "embedding": VECTOR,
                "first_published_at": {"type": "date"},
                "year": {"type": "integer"},
                "language": {"type": "keyword"},
                "has_clip": {"type": "boolean"},
            },
        },
    }


def elasticsearch_document(document: dict) -> dict:
    """The story document plus what only this index needs: everyone's slugs and names, and the vectors.

    A zero vector (a transcript segment too short to embed) is left out: cosine cannot compare it.
    """
    source = {key: value for key, value in document.items() if key != "vectors"}
    source.update(person=person_slugs(document), person_names=person_names(document))
    vectors = document.get("vectors")
    if vectors is not None:
        rows = [[round(float(value), 6) for value in row] if any(row) else None for row in vectors]
        if rows[0] is not None:
            source["embedding"] = rows[0]
        source["transcript"] = [
            {**segment, "embedding": row} if row is not None else segment
            for segment, row in zip(document["transcript"], rows[1:], strict=False)
        ]
    return source


def filter_clauses(filters: dict[str, tuple], include_staff: bool) -> list:
    clauses = [] if include_staff else [Q("term", visibility="public")]
    for name, values in filters.items():
        typed = [int(value) for value in values] if name == "year" else [str(value) for value in values]
        clauses.append(Q("terms", **{FILTER_FIELDS[name]: typed}))
    return clauses


def hidden_clauses(hidden_ids: Collection[int]) -> list:
    """`must_not` clauses that leave these stories out of hits, totals and every facet."""
    return [Q("terms", id=sorted(int(pk) for pk in hidden_ids))] if hidden_ids else []


def _all_of(clauses: list):
    return Q("bool", filter=clauses) if clauses else Q("match_all")


def text_query(text: str) -> Q:
    """Stories with enough of the words in any field: base.py's rules (`required_words`) in this engine's terms."""
    words = {"query": text, "analyzer": QUESTION_ANALYZER, "minimum_should_match": minimum_should_match()}
    matching = Q(
        "bool",
        should=[
            Q("multi_match", type="cross_fields", operator="or", fields=search_fields(), **words),
            Q(
                "multi_match",
                type="best_fields",
                operator="or",
                fuzziness=f"AUTO:{FUZZY_SHORTEST_WORD},{FUZZY_TWO_TYPOS_FROM}",
                fields=search_fields(FUZZY_FIELDS, FUZZY_BOOST),
                **words,
            ),
        ],
        minimum_should_match=1,
    )
    every_word = Q(
        "multi_match",
        query=text,
        analyzer=QUESTION_ANALYZER,
        type="cross_fields",
        operator="and",
        fields=search_fields(),
        boost=ALL_WORDS_BOOST,
    )
    phrase = Q(
        "multi_match",
        query=text,
        analyzer=QUESTION_ANALYZER,
        type="phrase",
        slop=PHRASE_SLOP,
        fields=search_fields(PHRASE_FIELDS),
        boost=PHRASE_BOOST,
    )
    return Q("bool", must=[matching], should=[every_word, phrase])


def semantic_clauses(vector, visibility: list, hidden: list) -> list[dict]:
    """kNN over the story vectors and the transcript segments' (the closest segment is returned as the moment).

    Visibility and the hidden stories are inside `filter`, so the k candidates are stories this
    reader may see; facet filters narrow them through post_filter like every other hit.
    """
    candidate_filter = (
        Q("bool", filter=visibility, must_not=hidden).to_dict() if visibility or hidden else None
    )
    common = {
        "k": SEMANTIC_CANDIDATES,
        "num_candidates": SEMANTIC_CANDIDATES * 4,
        "query_vector": [round(float(value), 6) for value in vector],
        "similarity": SEMANTIC_MIN_SIMILARITY,
        "boost": SEMANTIC_BOOST,
    }
    if candidate_filter:
        common["filter"] = candidate_filter
    return [
        {"field": "embedding", **common},
        {
            "field": "transcript.embedding",
            **common,
            "inner_hits": {
                "name": MOMENT,
                "size": 1,
                "_source": ["transcript.start", "transcript.end", "transcript.text"],
            },
        },
    ]


def search_request(
    query: SearchQuery, search: Search, hidden_ids: Collection[int] = (), vector=None
) -> Search:
    """The full request for one results page: query, kNN, post_filter, facet aggregations, highlights, sort.

    Facets follow standard faceted navigation: the filters go in post_filter (so they narrow the
    hits but not the aggregations) and each facet's aggregation applies every filter but its own.
    Visibility (and the hidden stories) is part of the query and of the kNN filter, so it shapes
    hits, totals and every facet alike. With the question's `vector`, Elasticsearch returns the
    union of word matches and the k nearest stories, scored by the sum of both (SEMANTIC_BOOST).
    """
    visibility = filter_clauses({}, query.include_staff)
    hidden = hidden_clauses(hidden_ids)
    semantic = bool(query.text) and vector is not None and query.retrieval != "lexical"
    if semantic:
        search = search.extra(knn=semantic_clauses(vector, visibility, hidden))
    if query.text and query.retrieval == "semantic":
        main = None if semantic else Q("match_none")
    elif query.text:
        transcript = Q(
            "nested",
            path="transcript",
            score_mode="max",
            query=Q(
                "match",
                **{
                    "transcript.text": {
                        "query": query.text,
                        "analyzer": QUESTION_ANALYZER,
                        "minimum_should_match": minimum_should_match(),
                    }
                },
            ),
            inner_hits={
                "size": TRANSCRIPT_HITS_PER_STORY,
                "sort": [{"transcript.start": {"order": "asc"}}],
                "highlight": {**HIGHLIGHT_TAGS, "fields": {"transcript.text": {"number_of_fragments": 0}}},
            },
        )
        main = Q(
            "bool", must=[text_query(query.text)], should=[transcript], filter=visibility, must_not=hidden
        )
    else:
        main = Q("bool", filter=visibility, must_not=hidden) if visibility or hidden else Q("match_all")
    if main is not None:
        search = search.query(main)
    filters = query.filters()
    if filters:
        search = search.post_filter(_all_of(filter_clauses(filters, include_staff=True)))
    for facet, size in ({} if query.ranking_only else FACET_SIZES).items():
        others = filter_clauses(query.filters_except(facet), include_staff=True)
        facet_aggregation = search.aggs.bucket(facet, "filter", filter=_all_of(others))
        facet_aggregation.bucket("values", "terms", field=FILTER_FIELDS[facet], size=size)
        chosen = filters.get(facet)
        if chosen:  # chosen values are counted even when they fall outside the top `size`
            typed = [int(value) for value in chosen] if facet == "year" else [str(value) for value in chosen]
            facet_aggregation.bucket(
                "selected", "terms", field=FILTER_FIELDS[facet], include=typed, size=len(typed)
            )
    if query.text and not query.ranking_only:  # the transcript's inner hits still carry the moments
        search = search.highlight_options(
            **HIGHLIGHT_TAGS, fragment_size=SNIPPET_CHARACTERS, number_of_fragments=1, no_match_size=0
        )
        search = search.highlight("title", number_of_fragments=0)
        search = search.highlight(*[field for field in HIGHLIGHT_FIELDS if field != "title"])
    sort = query.effective_sort
    if sort == "newest":
        search = search.sort({"first_published_at": {"order": "desc"}}, {"id": {"order": "desc"}})
    elif sort == "helpful":
        search = search.sort({"helpful_count": {"order": "desc"}}, {"first_published_at": {"order": "desc"}})
    search = search.source(["id"]).extra(track_total_hits=not query.ranking_only)
    return search[query.offset : query.offset + query.per_page]


def parse_search_response(body: dict) -> SearchResults:
    """Turn Elasticsearch's JSON answer into the backend-neutral results."""
    hits = []
    for raw in body["hits"]["hits"]:
        hit = SearchHit(id=int(raw["_source"]["id"]), score=float(raw.get("_score") or 0.0))
        for field, fragments in (raw.get("highlight") or {}).items():
            if fragments:
                hit.highlights[field] = fragments[0]
        inner_hits = raw.get("inner_hits") or {}
        for name in ("transcript", MOMENT):
            inner = (inner_hits.get(name) or {}).get("hits", {}).get("hits", [])
            if hit.transcript_hits:
                break  # a segment with the words beats the closest in meaning
            for segment in inner:
                source = segment["_source"]
                plain = html.escape(source["text"])
                highlighted = (segment.get("highlight") or {}).get("transcript.text", [plain])[0]
                hit.transcript_hits.append(
                    TranscriptHit(float(source["start"]), float(source["end"]), source["text"], highlighted)
                )
        hits.append(hit)
    facets = {}
    for facet in FACET_SIZES:
        aggregation = body.get("aggregations", {}).get(facet, {})
        buckets = aggregation.get("values", {}).get("buckets", [])
        facets[facet] = [FacetValue(str(bucket["key"]), "", bucket["doc_count"]) for bucket in buckets]
        shown = {value.value for value in facets[facet]}
        for bucket in aggregation.get("selected", {}).get("buckets", []):
            if str(bucket["key"]) not in shown:
                facets[facet].append(FacetValue(str(bucket["key"]), "", bucket["doc_count"]))
    total = body["hits"].get("total", {}).get("value", len(hits))  # absent when not tracked
    return SearchResults(total=total, hits=hits, facets=facets)


def suggest_requests(
    prefix: str, include_staff: bool, limit: int, search: Search, hidden_ids: Collection[int] = ()
) -> tuple[Search, Search]:
    """Two requests: stories whose title starts with what was typed, and the people who might match."""
    visibility = filter_clauses({}, include_staff)
    hidden = hidden_clauses(hidden_ids)

    def typed_prefix(fields: list[str]) -> Q:
        match = Q("multi_match", query=prefix, type="bool_prefix", operator="and", fields=fields)
        return Q("bool", must=[match], filter=visibility, must_not=hidden)

    titles = search.query(typed_prefix(TITLE_SUGGEST_FIELDS)).source(["id"])[:limit]
    people = search.query(typed_prefix(PEOPLE_SUGGEST_FIELDS)).extra(size=0)
    people.aggs.bucket("person", "terms", field="person", size=50)
    return titles, people


def related_request(
    story_id: int,
    alias: str,
    include_staff: bool,
    limit: int,
    search: Search,
    hidden_ids: Collection[int] = (),
) -> Search:
    """More-like-this as base.py defines it (RELATED_WORDS_FROM, RELATED_SHARED); never the story itself.

    Elasticsearch reads the story from the index: more_like_this takes its RELATED_WORDS_FROM words
    from the indexed document (Lucene then matches each word in the field it came from) and a terms
    lookup takes each shared facet's values from it, so the request carries no story text.
    """
    indexed = {"index": alias, "id": str(story_id)}
    should = [
        Q(
            "more_like_this",
            fields=[SEARCHED_FIELDS[field] for field in RELATED_WORDS_IN],
            like=[
                {
                    "_index": alias,
                    "_id": str(story_id),
                    "fields": [SEARCHED_FIELDS[field] for field in RELATED_WORDS_FROM],
                }
            ],
            min_term_freq=1,
            min_doc_freq=1,
            max_query_terms=RELATED_MOST_WORDS,
            min_word_length=RELATED_SHORTEST_WORD,
        )
    ]
    for facet, boost in RELATED_SHARED.items():
        field = FILTER_FIELDS[facet]
        should.append(Q("terms", **{field: {**indexed, "path": field}, "boost": boost}))
    return search.query(
        Q(
            "bool",
            should=should,
            minimum_should_match=1,
            filter=filter_clauses({}, include_staff),
            must_not=[Q("ids", values=[str(story_id)]), *hidden_clauses(hidden_ids)],
        )
    ).source(["id"])[:limit]


class ElasticsearchBackend(SearchBackend):
    name = "elasticsearch"

    def __init__(self, url: str, alias: str):
        self.url = url
        self.alias = alias
        self.client = Elasticsearch(url, request_timeout=10, max_retries=1, retry_on_timeout=False)

    @classmethod
    def from_settings(cls) -> ElasticsearchBackend:
        if not settings.ELASTICSEARCH_URL:
            raise ImproperlyConfigured("The Elasticsearch search backend needs ELASTICSEARCH_URL.")
        return cls(settings.ELASTICSEARCH_URL, settings.ELASTICSEARCH_INDEX)

    @classmethod
    def settings_key(cls) -> tuple:
        return (settings.ELASTICSEARCH_URL, settings.ELASTICSEARCH_INDEX)

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        """Connection trouble and a missing alias become SearchUnavailable; the caller retries later."""
        try:
            yield
        except (TransportError, ApiError) as error:
            raise SearchUnavailable(f"Elasticsearch: {error}") from error

    def _search(self) -> Search:
        return Search(using=self.client, index=self.alias)

    def exists(self) -> bool:
        with self._reachable():
            return bool(self.client.indices.exists_alias(name=self.alias))

    def schema_is_current(self) -> bool:
        with self._reachable():
            mappings = self.client.indices.get_mapping(index=self.alias)
        return all(
            (index.get("mappings", {}).get("_meta") or {}).get("schema_version") == SCHEMA_VERSION
            for index in mappings.body.values()
        )

    def search(self, query: SearchQuery, *, hidden_ids: Collection[int] = (), vector=None) -> SearchResults:
        with self._reachable():
            response = search_request(query, self._search(), hidden_ids, vector).execute()
        return parse_search_response(response.to_dict())

    def suggest(
        self, prefix: str, *, include_staff: bool, limit: int = 6, hidden_ids: Collection[int] = ()
    ) -> tuple[list[int], list[str]]:
        titles, people = suggest_requests(prefix, include_staff, limit, self._search(), hidden_ids)
        with self._reachable():
            title_hits = titles.execute().to_dict()
            people_answer = people.execute().to_dict()
        story_ids = [int(hit["_source"]["id"]) for hit in title_hits["hits"]["hits"]]
        slugs = [bucket["key"] for bucket in people_answer["aggregations"]["person"]["buckets"]]
        return story_ids, slugs

    def related(
        self, story_id: int, *, include_staff: bool, limit: int = 3, hidden_ids: Collection[int] = ()
    ) -> list[int]:
        request = related_request(story_id, self.alias, include_staff, limit, self._search(), hidden_ids)
        with self._reachable():
            answer = request.execute().to_dict()
        return [int(hit["_source"]["id"]) for hit in answer["hits"]["hits"]]

    def update(self, documents: Iterable[dict] = (), delete_ids: Iterable[int] = ()) -> None:
        actions = [
            {"_op_type": "delete", "_index": self.alias, "_id": str(story_id)} for story_id in delete_ids
        ]
        actions += [
            {
                "_op_type": "index",
                "_index": self.alias,
                "_id": str(document["id"]),
                "_source": elasticsearch_document(document),
            }
            for document in documents
        ]
        if not actions:
            return
        with self._reachable():
            _, errors = helpers.bulk(self.client, actions, raise_on_error=False, raise_on_exception=True)
            real_errors = [error for error in errors if error.get("delete", {}).get("status") != 404]
            if real_errors:
                raise RuntimeError(f"Elasticsearch refused {len(real_errors)} updates: {real_errors[:3]}")
            self.client.indices.refresh(index=self.alias)

    def rebuild(self, documents: Iterable[dict], progress: Callable[[int], None] | None = None) -> int:
        name = f"{self.alias}-v{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
        definition = index_definition()
        with self._reachable():
            self.client.indices.create(
                index=name, settings=definition["settings"], mappings=definition["mappings"]
            )
            count = 0
            try:
                actions = (
                    {"_index": name, "_id": str(document["id"]), "_source": elasticsearch_document(document)}
                    for document in documents
                )
                for _ok, _item in helpers.streaming_bulk(
                    self.client, actions, chunk_size=500, raise_on_error=True
                ):
                    count += 1
                    if progress and count % 1000 == 0:
                        progress(count)
                self.client.indices.refresh(index=name)
            except BaseException:
                self.client.indices.delete(index=name, ignore_unavailable=True)
                raise
            self._point_alias_at(name)
        if progress:
            progress(count)
        return count

    def _point_alias_at(self, name: str) -> None:
        old = list(self.client.indices.get_alias(name=self.alias).body) if self.exists() else []
        actions = [{"remove": {"index": index, "alias": self.alias}} for index in old]
        actions.append({"add": {"index": name, "alias": self.alias}})
        self.client.indices.update_aliases(actions=actions)
        for index in old:
            self.client.indices.delete(index=index, ignore_unavailable=True)

    def document_fingerprints(self) -> dict[int, int]:
        if not self.exists():
            return {}
        with self._reachable():
            return {
                int(hit["_source"]["id"]): int(hit["_source"]["fingerprint"])
                for hit in helpers.scan(
                    self.client,
                    index=self.alias,
                    query={"query": {"match_all": {}}, "_source": ["id", "fingerprint"]},
                )
            }

    def count(self) -> int:
        try:
            if not self.exists():
                return 0
            with self._reachable():
                return int(self.client.count(index=self.alias)["count"])
        except SearchUnavailable:
            return 0

    def health(self) -> dict:
        try:
            with self._reachable():
                reachable = self.client.ping()
                if not reachable:
                    return {
                        "ok": False,
                        "backend": self.name,
                        "error": f"no answer from {redact_credentials(self.url)}",
                    }
                if not self.exists():
                    return {"ok": True, "backend": self.name, "documents": 0, "index": "not built yet"}
                return {"ok": True, "backend": self.name, "documents": self.count(), "alias": self.alias}
        except SearchUnavailable as error:
            return {"ok": False, "backend": self.name, "error": str(error)}

    def drop_everything(self) -> None:
        with self._reachable():
            self.client.indices.delete(
                index=f"{self.alias}-v*", ignore_unavailable=True, allow_no_indices=True
            )
