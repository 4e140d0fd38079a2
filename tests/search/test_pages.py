"""What people and programs see: /search/, /api/search/ and the autocomplete endpoint."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string

from search.backends import EMBEDDED
from search.display import page_context
from search.query import SearchQuery
from search.service import MEANING_STARTING, meaning_status, search_stories
from search.sync import apply_pending_updates
from stories.models import TranscriptSegment, Visibility
from tests.factories import PersonFactory, StoryPageFactory, ThemeFactory, UserFactory, make_editor
from tests.search.backend_contract import embed_everything_waiting

pytestmark = pytest.mark.django_db


@pytest.fixture
def stories(settings):
    settings.STORYBANK_SEARCH_BACKEND = EMBEDDED
    meetings = ThemeFactory(name="Meetings")
    tooling = ThemeFactory(name="Tooling")
    ada = PersonFactory(name="Ada Lovelace", slug="ada-lovelace")
    standup = StoryPageFactory(
        title="Stand-up in ten minutes", themes=[meetings], teller=ada, aha="A timer kept the stand-up short."
    )
    clip = StoryPageFactory(title="Recorded retro", themes=[meetings], publish=False, source="voice")
    clip.transcript_segments = [
        TranscriptSegment(start=83.4, end=88.0, text="Then the timer rang and we stopped.")
    ]
    clip.save_revision().publish()
    StoryPageFactory(title="A linter for the wiki", themes=[tooling])
    StoryPageFactory(title="Staff-only timer policy", themes=[meetings], visibility=Visibility.STAFF)
    apply_pending_updates()
    return {"standup": standup, "clip": clip}


def test_search_page_shows_highlighted_results_and_facets(client, stories):
    response = client.get("/search/", {"q": "timer"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "2 stories" in html
    assert "A <mark>timer</mark> kept the stand-up short." in html
    assert 'name="theme" value="meetings"' in html
    assert "Staff-only timer policy" not in html


def test_transcript_hit_links_to_the_moment_in_the_clip(client, stories):
    html = client.get("/search/", {"q": "timer"}).content.decode()
    assert f'href="{stories["clip"].url}?t=83.4"' in html
    assert "Play from 1:23" in html
    assert "Then the <mark>timer</mark> rang and we stopped." in html


def test_active_filters_are_removable_chips_and_checked_boxes(client, stories):
    html = client.get("/search/", {"q": "timer", "theme": "meetings", "sort": "newest"}).content.decode()
    assert 'value="meetings" checked' in html
    assert 'aria-label="Remove filter Theme: Meetings"' in html
    assert 'href="/search/?q=timer&amp;sort=newest"' in html  # the chip keeps the words and the sort


def test_empty_state_helps_the_reader_on(client, stories):
    html = client.get("/search/", {"q": "zeppelin", "theme": "tooling"}).content.decode()
    assert "No stories match “zeppelin”" in html
    assert "Search again without the filters" in html


def test_pagination_links_keep_the_query(client, settings, stories):
    for number in range(12):
        StoryPageFactory(title=f"Wiki page {number}", themes=[ThemeFactory(name="Tooling")])
    apply_pending_updates()
    html = client.get("/search/", {"theme": "tooling"}).content.decode()
    assert "13 stories" in html
    assert 'href="/search/?theme=tooling&amp;page=2"' in html


def test_search_page_works_before_the_index_exists(client, settings):
    settings.STORYBANK_SEARCH_BACKEND = EMBEDDED
    response = client.get("/search/", {"q": "anything"})
    assert response.status_code == 200
    assert "Search is being prepared" in response.content.decode()


def test_api_returns_results_facets_and_transcript_times(client, stories):
    body = client.get("/api/search/", {"q": "timer", "theme": "meetings"}).json()
    assert body["total"] == 2
    assert body["query"] == {"q": "timer", "theme": ["meetings"], "sort": "relevance"}
    by_title = {result["title"]: result for result in body["results"]}
    assert by_title["Stand-up in ten minutes"]["teller"] == {"slug": "ada-lovelace", "name": "Ada Lovelace"}
    assert by_title["Stand-up in ten minutes"]["themes"] == [{"slug": "meetings", "name": "Meetings"}]
    hit = by_title["Recorded retro"]["transcript_hits"][0]
    assert hit["start"] == 83.4 and hit["url"].endswith("?t=83.4")
    assert {"value": "meetings", "label": "Meetings", "count": 2, "selected": True} in body["facets"]["theme"]
    assert set(body["facets"]) == {"theme", "person", "outcome", "year", "language"}
    assert body["facets"]["language"] == [{"value": "en", "label": "English", "count": 2, "selected": False}]


def test_api_includes_staff_only_stories_for_signed_in_users(client, stories):
    assert client.get("/api/search/", {"q": "policy"}).json()["total"] == 0
    client.force_login(UserFactory())
    assert (
        client.get("/api/search/", {"q": "policy"}).json()["results"][0]["title"] == "Staff-only timer policy"
    )


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"page": "-3"}, "page"),
        ({"year": "soon"}, "year"),
        ({"sort": "sideways"}, "sort"),
        ({"per_page": "x"}, "per_page"),
        ({"per_page": "500"}, "per_page"),
    ],
)
def test_api_refuses_malformed_parameters_saying_which(client, stories, params, named):
    response = client.get("/api/search/", params)
    assert response.status_code == 400
    assert f"“{named}”" in response.json()["error"]


def test_suggest_endpoint_returns_titles_and_people(client, stories):
    body = client.get("/api/search/suggest/", {"q": "stand"}).json()
    assert body["suggestions"][0] == {
        "label": "Stand-up in ten minutes",
        "kind": "story",
        "url": stories["standup"].url,
        "value": str(stories["standup"].pk),
    }
    people = client.get("/api/search/suggest/", {"q": "ada"}).json()["suggestions"]
    assert [entry["label"] for entry in people] == ["Ada Lovelace"]


def test_healthz_reports_the_search_backend_and_queue(client, stories):
    client.force_login(make_editor())
    body = client.get("/healthz").json()["checks"]["search"]
    assert body["ok"] is True and body["backend"] == "embedded"
    assert body["documents"] == 4 and body["pending_updates"] == 0  # staff-only stories are indexed too


def test_the_page_and_the_api_say_while_stories_wait_to_be_read_for_meaning(client, meaning_search, stories):
    """Meaning joins as the worker embeds the stories; until then the reader is told words alone match."""
    waiting = "Some stories are still being read for their meaning"
    assert waiting in client.get("/search/", {"q": "timer"}).content.decode()
    assert client.get("/api/search/", {"q": "timer"}).json()["meaning"] == "catching up"
    embed_everything_waiting()
    assert waiting not in client.get("/search/", {"q": "timer"}).content.decode()
    assert client.get("/api/search/", {"q": "timer"}).json()["meaning"] == "ready"
    assert client.get("/api/search/", {"theme": "meetings"}).json()["meaning"] is None  # no question


def test_a_question_asked_before_the_model_has_loaded_is_said_to_match_words_only(settings):
    settings.EMBEDDING_MODEL = ""
    assert meaning_status(SearchQuery(text="equipment rusting"), None) == MEANING_STARTING
    assert meaning_status(SearchQuery(text="equipment rusting", retrieval="lexical"), None) == ""
    settings.EMBEDDING_MODEL = "off"
    assert meaning_status(SearchQuery(text="equipment rusting"), None) == ""


def test_the_search_page_says_when_meaning_is_still_starting(rf, stories):
    page = search_stories(SearchQuery(text="timer"), AnonymousUser())
    page.meaning = MEANING_STARTING
    request = rf.get("/search/")
    request.user = AnonymousUser()
    html = render_to_string("search/search.html", {**page_context(page), "people_who_know": []}, request)
    assert '<p class="search-note" role="status">Matching by meaning is still starting up' in html
