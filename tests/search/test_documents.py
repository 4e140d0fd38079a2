"""The search document and the engines' field tables read `stories.schema`; the backend is a setting."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from search import display
from search.backends import ELASTICSEARCH, EMBEDDED, backend_path, get_backend
from search.backends.base import field_boosts
from search.backends.elasticsearch import SEARCHED_FIELDS as ELASTICSEARCH_FIELDS
from search.backends.elasticsearch import index_definition, search_fields
from search.backends.embedded import SEARCHED_FIELDS as EMBEDDED_FIELDS
from search.backends.embedded import EmbeddedBackend
from search.documents import PageUrls, story_document
from search.query import SearchHit
from search.service import NamedItem, StoryCard, StoryResult
from stories import schema
from stories.models import TranscriptSegment
from tests.factories import StoryPageFactory

MADE_UP = schema.StoryField("search_description", schema.Kind.TEXT, "In one line", search_weight=1.0)
DOCUMENT_KEYS = {
    "id",
    "url",
    "title",
    "teller",
    "people",
    "themes",
    "outcome_types",
    "context",
    "aha",
    "outcome",
    "transcript",
    "transcript_text",
    "body",
    "occurred_on",
    "first_published_at",
    "year",
    "visibility",
    "helpful_count",
    "language",
    "source",
    "has_clip",
    "fingerprint",
}


@pytest.fixture
def made_up_field(monkeypatch):
    monkeypatch.setattr(schema, "STORY_FIELDS", (*schema.STORY_FIELDS, MADE_UP))
    return MADE_UP


@pytest.mark.django_db
def test_story_urls_are_worked_out_without_a_query(django_assert_num_queries):
    stories = [StoryPageFactory(title=f"Kanban board {number}") for number in range(3)]
    expected = [story.url for story in stories]  # Wagtail's own answer (it also caches the site roots)
    urls = PageUrls()
    with django_assert_num_queries(0):
        assert [urls.url(story.url_path) for story in stories] == expected
        assert urls.url("/not/under/any/site/") == "/not/under/any/site/"


@pytest.mark.django_db
def test_document_carries_the_story_page_url_body_and_transcript():
    story = StoryPageFactory(title="Documented", publish=False)
    story.body = [
        ("paragraph", "<p>Rich <b>text</b> &amp; more</p>"),
        ("quote", {"quote": "Ask early", "attribution": "Ada"}),
    ]
    story.transcript_segments = [TranscriptSegment(start=1.5, end=3.0, text="hello there")]
    story.save_revision().publish()
    story.refresh_from_db()
    document = story_document(story)
    assert document["url"] == story.url
    assert document["body"] == "Rich text & more Ask early Ada"
    assert document["transcript"] == [{"start": 1.5, "end": 3.0, "text": "hello there"}]
    assert set(document) == DOCUMENT_KEYS


@pytest.mark.django_db
def test_a_text_field_added_to_the_schema_reaches_the_document_and_the_mapping(made_up_field):
    story = StoryPageFactory(title="Declared once", search_description="A question moved out of email.")
    document = story_document(story)
    assert document["search_description"] == "A question moved out of email."
    assert set(document) == DOCUMENT_KEYS | {"search_description"}
    assert index_definition()["mappings"]["properties"]["search_description"] == {
        "type": "text",
        "analyzer": "english",
    }


def test_each_engine_maps_exactly_the_searched_fields_of_the_schema():
    assert set(EMBEDDED_FIELDS) == set(schema.search_weights())
    assert set(ELASTICSEARCH_FIELDS) == set(schema.search_weights())


def test_both_engines_take_their_weights_from_the_schema(monkeypatch):
    title = schema.story_field("title")
    heavier = schema.StoryField(title.name, title.kind, title.label, search_weight=8.0)
    fields = tuple(heavier if field is title else field for field in schema.STORY_FIELDS)
    monkeypatch.setattr(schema, "STORY_FIELDS", fields)
    assert search_fields()[0] == "title^8"
    assert field_boosts(EMBEDDED_FIELDS)["title"] == 8.0


def test_people_share_one_embedded_field_weighted_like_them():
    boosts = field_boosts(EMBEDDED_FIELDS)
    assert boosts["people_text"] == schema.search_weights()["teller"] == schema.search_weights()["people"]


def test_snippets_are_labelled_and_ordered_from_the_schema():
    highlights = {
        "transcript_text": "t",
        "body": "b",
        "outcome": "o",
        "context": "c",
        "aha": "a",
    }
    card = StoryCard(1, "Title", "/s/", NamedItem("Ada", "ada"), "Aha", None, None, 0, "public")
    shown = display.shown_result(StoryResult(card, SearchHit(id=1, score=1.0, highlights=highlights)))
    assert [label for label, _ in shown.snippets] == ["Aha", "Situation"]
    assert list(schema.snippet_labels().items()) == [
        ("aha", "Aha"),
        ("context", "Situation"),
        ("outcome", "What changed"),
        ("body", "Story"),
        ("transcript_text", "Transcript"),
    ]


def test_the_setting_names_the_backend_class(settings):
    settings.STORYBANK_SEARCH_BACKEND = EMBEDDED
    assert type(get_backend()) is EmbeddedBackend
    assert get_backend() is get_backend()


class TinyBackend(EmbeddedBackend):
    """A site's own backend, named by its dotted path."""


def test_a_site_may_name_its_own_backend_class(settings):
    settings.STORYBANK_SEARCH_BACKEND = f"{__name__}.TinyBackend"
    assert type(get_backend()) is TinyBackend


@pytest.mark.parametrize("path", ["search.backends.nowhere.Backend", "search.service.StoryCard"])
def test_a_setting_naming_no_backend_class_says_so(settings, path):
    settings.STORYBANK_SEARCH_BACKEND = path
    with pytest.raises(ImproperlyConfigured, match="STORYBANK_SEARCH_BACKEND"):
        get_backend()


def test_elasticsearch_needs_its_url(settings):
    settings.STORYBANK_SEARCH_BACKEND = ELASTICSEARCH
    settings.ELASTICSEARCH_URL = None
    with pytest.raises(ImproperlyConfigured, match="ELASTICSEARCH_URL"):
        get_backend()


def test_elasticsearch_is_chosen_by_its_url_unless_the_setting_says_otherwise(settings):
    settings.STORYBANK_SEARCH_BACKEND = ""
    settings.ELASTICSEARCH_URL = None
    assert backend_path() == EMBEDDED
    settings.ELASTICSEARCH_URL = "http://search:9200"
    assert backend_path() == ELASTICSEARCH
    settings.STORYBANK_SEARCH_BACKEND = EMBEDDED
    assert backend_path() == EMBEDDED
