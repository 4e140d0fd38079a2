"""The exact requests the Elasticsearch backend sends, and how it reads the answers.

No Elasticsearch runs here; these pin the request bodies (Search.to_dict()) and the mapping.
The backend contract runs against a live cluster when ELASTICSEARCH_URL is set (test_elasticsearch_live.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from elasticsearch.dsl import Search

from search.backends.elasticsearch import (
    elasticsearch_document,
    index_definition,
    parse_search_response,
    related_request,
    search_request,
    suggest_requests,
)
from search.query import SearchQuery

VISIBLE_TO_ANONYMOUS = {"term": {"visibility": "public"}}


def body(query: SearchQuery) -> dict:
    return search_request(query, Search(index="storybank-stories")).to_dict()


def facet_filter(request: dict, facet: str) -> dict:
    return request["aggs"][facet]["filter"]


ALL_FIELDS = [
    "title^5",
    "aha^3",
    "outcome^2",
    "context^2",
    "teller.name^2",
    "people.name^2",
    "themes.name^2",
    "outcome_types.name^1.5",
    "transcript_text",
    "body",
]


def test_text_query_needs_most_of_the_words_ranks_all_words_and_phrases_first_and_forgives_typos():
    request = body(SearchQuery(text="scanner labels"))
    text = request["query"]["bool"]["must"][0]["bool"]
    words = {"query": "scanner labels", "analyzer": "question", "minimum_should_match": "2<-40%"}
    assert text["must"] == [
        {
            "bool": {
                "should": [
                    {
                        "multi_match": {
                            "type": "cross_fields",
                            "operator": "or",
                            "fields": ALL_FIELDS,
                            **words,
                        }
                    },
                    {
                        "multi_match": {
                            "type": "best_fields",
                            "operator": "or",
                            "fuzziness": "AUTO:5,8",
                            "fields": [
                                "title^2.5",
                                "aha^1.5",
                                "outcome",
                                "context",
                                "teller.name",
                                "people.name",
                                "themes.name",
                            ],
                            **words,
                        }
                    },
                ],
                "minimum_should_match": 1,
            }
        }
    ]
    assert text["should"] == [
        {
            "multi_match": {
                "query": "scanner labels",
                "analyzer": "question",
                "type": "cross_fields",
                "operator": "and",
                "fields": ALL_FIELDS,
                "boost": 1.0,
            }
        },
        {
            "multi_match": {
                "query": "scanner labels",
                "analyzer": "question",
                "type": "phrase",
                "slop": 3,
                "fields": ["title^5", "aha^3", "outcome^2", "context^2"],
                "boost": 2.0,
            }
        },
    ]
    assert request["query"]["bool"]["filter"] == [VISIBLE_TO_ANONYMOUS]
    assert "knn" not in request


def test_the_question_analyzer_drops_question_words_and_stems_like_the_english_fields():
    analysis = index_definition()["settings"]["analysis"]
    assert analysis["analyzer"]["question"] == {
        "type": "custom",
        "tokenizer": "standard",
        "filter": ["english_possessive", "lowercase", "question_words", "english_stemmer"],
    }
    stop_words = analysis["filter"]["question_words"]["stopwords"]
    assert {"how", "can", "who", "my", "the"} <= set(stop_words)
    assert "email" not in stop_words and stop_words == sorted(stop_words)


VECTOR = [0.5, -0.25, 0.125]


def knn_clause(field: str, **extra) -> dict:
    return {
        "field": field,
        "k": 50,
        "num_candidates": 200,
        "query_vector": VECTOR,
        "similarity": 0.3,
        "boost": 10.0,
        **extra,
    }


def test_a_question_vector_adds_knn_over_stories_and_transcript_moments_with_visibility_inside():
    request = search_request(
        SearchQuery(text="rusting pipes", themes=("safety",)),
        Search(index="storybank-stories"),
        hidden_ids=[7],
        vector=VECTOR,
    ).to_dict()
    inside = {"bool": {"filter": [VISIBLE_TO_ANONYMOUS], "must_not": [{"terms": {"id": [7]}}]}}
    assert request["knn"] == [
        knn_clause("embedding", filter=inside),
        knn_clause(
            "transcript.embedding",
            filter=inside,
            inner_hits={
                "name": "moment",
                "size": 1,
                "_source": ["transcript.start", "transcript.end", "transcript.text"],
            },
        ),
    ]
    # The words still match too, and facet filters narrow both through post_filter.
    assert "must" in request["query"]["bool"]
    assert request["post_filter"] == {"bool": {"filter": [{"terms": {"themes.slug": ["safety"]}}]}}


def test_staff_readers_get_knn_without_a_filter_and_semantic_only_sends_no_text_query():
    request = search_request(
        SearchQuery(text="rusting", include_staff=True, retrieval="semantic"),
        Search(index="storybank-stories"),
        vector=VECTOR,
    ).to_dict()
    assert request["knn"][0] == knn_clause("embedding")
    assert "query" not in request
    lexical = search_request(
        SearchQuery(text="rusting", retrieval="lexical"), Search(index="storybank-stories"), vector=VECTOR
    ).to_dict()
    assert "knn" not in lexical
    nothing = search_request(SearchQuery(text="rusting", retrieval="semantic"), Search(index="x")).to_dict()
    assert nothing["query"] == {"match_none": {}}


def test_transcript_segments_come_back_as_inner_hits_with_highlights():
    request = body(SearchQuery(text="scanner"))
    assert request["query"]["bool"]["should"] == [
        {
            "nested": {
                "path": "transcript",
                "score_mode": "max",
                "query": {
                    "match": {
                        "transcript.text": {
                            "query": "scanner",
                            "analyzer": "question",
                            "minimum_should_match": "2<-40%",
                        }
                    }
                },
                "inner_hits": {
                    "size": 5,
                    "sort": [{"transcript.start": {"order": "asc"}}],
                    "highlight": {
                        "pre_tags": ["<mark>"],
                        "post_tags": ["</mark>"],
                        "encoder": "html",
                        "fields": {"transcript.text": {"number_of_fragments": 0}},
                    },
                },
            }
        }
    ]


def test_filters_go_in_post_filter_and_each_facet_applies_only_the_others():
    request = body(SearchQuery(themes=("data",), years=(2024,), people=("ada", "grace")))
    assert request["post_filter"] == {
        "bool": {
            "filter": [
                {"terms": {"themes.slug": ["data"]}},
                {"terms": {"person": ["ada", "grace"]}},
                {"terms": {"year": [2024]}},
            ]
        }
    }
    assert facet_filter(request, "theme") == {
        "bool": {"filter": [{"terms": {"person": ["ada", "grace"]}}, {"terms": {"year": [2024]}}]}
    }
    assert facet_filter(request, "outcome") == request["post_filter"]
    assert request["aggs"]["year"]["aggs"] == {
        "values": {"terms": {"field": "year", "size": 50}},
        "selected": {"terms": {"field": "year", "include": [2024], "size": 1}},
    }
    assert request["aggs"]["person"]["aggs"] == {
        "values": {"terms": {"field": "person", "size": 30}},
        "selected": {"terms": {"field": "person", "include": ["ada", "grace"], "size": 2}},
    }
    assert request["aggs"]["outcome"]["aggs"] == {
        "values": {"terms": {"field": "outcome_types.slug", "size": 20}}
    }


def test_the_language_filters_and_is_counted_like_any_facet():
    request = body(SearchQuery(languages=("de",), themes=("data",)))
    assert request["post_filter"] == {
        "bool": {"filter": [{"terms": {"themes.slug": ["data"]}}, {"terms": {"language": ["de"]}}]}
    }
    assert facet_filter(request, "language") == {"bool": {"filter": [{"terms": {"themes.slug": ["data"]}}]}}
    assert request["aggs"]["language"]["aggs"] == {
        "values": {"terms": {"field": "language", "size": 20}},
        "selected": {"terms": {"field": "language", "include": ["de"], "size": 1}},
    }


def test_without_filters_facets_count_everything_visible():
    request = body(SearchQuery())
    assert request["query"] == {"bool": {"filter": [VISIBLE_TO_ANONYMOUS]}}
    assert "post_filter" not in request
    assert facet_filter(request, "theme") == {"match_all": {}}


def test_signed_in_searches_have_no_visibility_filter():
    assert body(SearchQuery(include_staff=True))["query"] == {"match_all": {}}


def test_stories_waiting_for_their_update_are_left_out_of_hits_totals_and_facets():
    hidden = {12, 3}
    without_text = search_request(SearchQuery(), Search(index="storybank-stories"), hidden).to_dict()
    assert without_text["query"] == {
        "bool": {"filter": [VISIBLE_TO_ANONYMOUS], "must_not": [{"terms": {"id": [3, 12]}}]}
    }
    signed_in = search_request(SearchQuery(include_staff=True), Search(index="storybank-stories"), hidden)
    assert signed_in.to_dict()["query"] == {"bool": {"must_not": [{"terms": {"id": [3, 12]}}]}}
    with_text = search_request(
        SearchQuery(text="pricing"), Search(index="storybank-stories"), hidden
    ).to_dict()
    assert with_text["query"]["bool"]["filter"] == [VISIBLE_TO_ANONYMOUS]
    assert with_text["query"]["bool"]["must_not"] == [{"terms": {"id": [3, 12]}}]
    assert sorted(with_text["query"]["bool"]) == ["filter", "must", "must_not", "should"]
    # In the query, not the post_filter: the aggregations (facet counts) and the total obey it too.
    assert "post_filter" not in without_text


def test_autocomplete_and_related_leave_out_stories_waiting_for_their_update():
    titles, people = suggest_requests("gra", False, 6, Search(index="storybank-stories"), {7})
    for request in (titles.to_dict(), people.to_dict()):
        assert request["query"]["bool"]["filter"] == [VISIBLE_TO_ANONYMOUS]
        assert request["query"]["bool"]["must_not"] == [{"terms": {"id": [7]}}]
    related = related_request(
        1, "storybank-stories", True, 3, Search(index="storybank-stories"), {7, 2}
    ).to_dict()
    assert related["query"]["bool"]["must_not"] == [{"ids": {"values": ["1"]}}, {"terms": {"id": [2, 7]}}]


def test_sorts_pages_highlights_and_total():
    newest = body(SearchQuery(text="x", sort="newest", page=3, per_page=10))
    assert newest["sort"] == [{"first_published_at": {"order": "desc"}}, {"id": {"order": "desc"}}]
    assert (newest["from"], newest["size"], newest["track_total_hits"]) == (20, 10, True)
    assert newest["_source"] == ["id"]
    helpful = body(SearchQuery(sort="helpful"))
    assert helpful["sort"] == [
        {"helpful_count": {"order": "desc"}},
        {"first_published_at": {"order": "desc"}},
    ]
    assert "sort" not in body(SearchQuery(text="x"))
    assert body(SearchQuery(text="x"))["highlight"] == {
        "pre_tags": ["<mark>"],
        "post_tags": ["</mark>"],
        "encoder": "html",
        "fragment_size": 220,
        "number_of_fragments": 1,
        "no_match_size": 0,
        "fields": {
            "title": {"number_of_fragments": 0},
            "aha": {},
            "context": {},
            "outcome": {},
            "body": {},
            "transcript_text": {},
        },
    }


def test_a_ranking_only_request_asks_for_no_total_facets_or_field_highlights():
    full = body(SearchQuery(text="scanner labels", per_page=30))
    lean = body(SearchQuery(text="scanner labels", per_page=30, ranking_only=True))
    assert lean["track_total_hits"] is False
    assert "aggs" not in lean and "highlight" not in lean
    # The same ranking, and the transcript's inner hits still say which moment matched.
    assert lean["query"] == full["query"]
    assert (lean["from"], lean["size"]) == (full["from"], full["size"]) == (0, 30)
    assert "inner_hits" in str(lean["query"])


def test_autocomplete_requests_use_search_as_you_type_fields():
    titles, people = suggest_requests("onbo", False, 6, Search(index="storybank-stories"))
    assert titles.to_dict() == {
        "query": {
            "bool": {
                "must": [
                    {
                        "multi_match": {
                            "query": "onbo",
                            "type": "bool_prefix",
                            "operator": "and",
                            "fields": ["title.suggest", "title.suggest._2gram", "title.suggest._3gram"],
                        }
                    }
                ],
                "filter": [VISIBLE_TO_ANONYMOUS],
            }
        },
        "_source": ["id"],
        "size": 6,
    }
    people_body = people.to_dict()
    assert people_body["size"] == 0
    assert people_body["aggs"] == {"person": {"terms": {"field": "person", "size": 50}}}
    assert people_body["query"]["bool"]["must"][0]["multi_match"]["fields"] == [
        "person_names",
        "person_names._2gram",
        "person_names._3gram",
    ]


def test_related_stories_read_the_indexed_story_with_more_like_this_and_skip_it():
    request = related_request(7, "storybank-stories", False, 3, Search(index="storybank-stories")).to_dict()
    story = {"index": "storybank-stories", "id": "7"}
    assert request == {
        "query": {
            "bool": {
                "should": [
                    {
                        "more_like_this": {
                            "fields": ["title", "aha", "context", "outcome", "themes.name"],
                            "like": [
                                {
                                    "_index": "storybank-stories",
                                    "_id": "7",
                                    "fields": ["title", "aha", "outcome"],
                                }
                            ],
                            "min_term_freq": 1,
                            "min_doc_freq": 1,
                            "max_query_terms": 25,
                            "min_word_length": 3,
                        }
                    },
                    {"terms": {"themes.slug": {**story, "path": "themes.slug"}, "boost": 4.0}},
                    {"terms": {"person": {**story, "path": "person"}, "boost": 1.5}},
                ],
                "minimum_should_match": 1,
                "filter": [VISIBLE_TO_ANONYMOUS],
                "must_not": [{"ids": {"values": ["7"]}}],
            }
        },
        "_source": ["id"],
        "size": 3,
    }


def test_mapping_is_explicit_english_with_keyword_facets_and_autocomplete():
    definition = index_definition()
    properties = definition["mappings"]["properties"]
    assert definition["mappings"]["dynamic"] == "strict"
    assert properties["aha"] == {"type": "text", "analyzer": "english"}
    assert properties["title"]["fields"]["suggest"] == {"type": "search_as_you_type", "analyzer": "folded"}
    assert properties["themes"]["properties"]["name"]["fields"] == {"keyword": {"type": "keyword"}}
    assert properties["themes"]["properties"]["slug"] == {"type": "keyword"}
    assert properties["person_names"]["type"] == "search_as_you_type"
    assert properties["transcript"]["type"] == "nested"
    assert properties["year"] == {"type": "integer"}


@pytest.mark.django_db
def test_every_document_field_is_mapped():
    from search.documents import document_fingerprint

    document = {
        "id": 1,
        "url": "/stories/a/",
        "title": "A",
        "teller": {"name": "Ada", "slug": "ada"},
        "people": [{"name": "Grace", "slug": "grace"}],
        "themes": [],
        "outcome_types": [],
        "context": "",
        "aha": "",
        "outcome": "",
        "transcript": [{"start": 1.0, "end": 2.0, "text": "hi"}],
        "transcript_text": "hi",
        "body": "",
        "occurred_on": None,
        "first_published_at": "2026-01-01T00:00:00+00:00",
        "year": 2026,
        "visibility": "public",
        "helpful_count": 0,
        "language": "en",
        "source": "form",
        "has_clip": False,
    }
    document["fingerprint"] = document_fingerprint(document)
    document["vectors"] = np.array([[0.6, 0.8], [0.0, 0.0]], dtype=np.float32)
    indexed = elasticsearch_document(document)
    assert set(indexed) == set(index_definition()["mappings"]["properties"])
    assert indexed["person"] == ["ada", "grace"] and indexed["person_names"] == ["Ada", "Grace"]
    assert indexed["embedding"] == [0.6, 0.8]
    # A segment too short to embed has a zero vector: it is left out (cosine cannot compare it).
    assert indexed["transcript"] == [{"start": 1.0, "end": 2.0, "text": "hi"}]
    assert set(index_definition()["mappings"]["properties"]["transcript"]["properties"]) == {
        "start",
        "end",
        "text",
        "embedding",
    }


def test_answers_become_hits_with_highlights_segments_and_facets():
    answer = {
        "hits": {
            "total": {"value": 12, "relation": "eq"},
            "hits": [
                {
                    "_id": "9",
                    "_score": 3.5,
                    "_source": {"id": 9},
                    "highlight": {"aha": ["the <mark>scanner</mark> failed"]},
                    "inner_hits": {
                        "transcript": {
                            "hits": {
                                "hits": [
                                    {
                                        "_source": {
                                            "start": 83.2,
                                            "end": 90.0,
                                            "text": "The scanner kept failing",
                                        },
                                        "highlight": {
                                            "transcript.text": ["The <mark>scanner</mark> kept failing"]
                                        },
                                    }
                                ]
                            }
                        }
                    },
                }
            ],
        },
        "aggregations": {
            "theme": {
                "doc_count": 12,
                "values": {"buckets": [{"key": "data", "doc_count": 4}]},
                "selected": {"buckets": [{"key": "data", "doc_count": 4}, {"key": "rare", "doc_count": 1}]},
            },
            "year": {"doc_count": 12, "values": {"buckets": [{"key": 2024, "doc_count": 12}]}},
        },
    }
    results = parse_search_response(answer)
    assert results.total == 12
    hit = results.hits[0]
    assert (hit.id, hit.highlights) == (9, {"aha": "the <mark>scanner</mark> failed"})
    assert hit.transcript_hits[0].start == 83.2
    assert hit.transcript_hits[0].highlighted == "The <mark>scanner</mark> kept failing"
    assert [(value.value, value.count) for value in results.facets["year"]] == [("2024", 12)]
    assert results.facets["person"] == []
    assert [(value.value, value.count) for value in results.facets["theme"]] == [("data", 4), ("rare", 1)]
