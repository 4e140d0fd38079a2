"""The read-only Wagtail API v2: story fields for everyone, staff-only stories for signed-in readers only."""

from __future__ import annotations

import pytest
from django.utils.dateparse import parse_datetime

from stories import schema
from tests.factories import StoryPageFactory
from tests.stories.story_helpers import add_transcript

pytestmark = pytest.mark.django_db
STORIES = "/api/v2/pages/?type=stories.StoryPage&fields=*"


@pytest.fixture
def stories(pricing, time_saved, ada):
    public = StoryPageFactory(
        title="Public",
        themes=[pricing],
        outcome_types=[time_saved],
        teller=ada,
        impact_value=3,
        impact_unit="days saved",
    )
    add_transcript(public, [(0, 2, "First words."), (2, 4, "Second words.")])
    staff = StoryPageFactory(title="Staff only", visibility="staff")
    draft = StoryPageFactory(title="Draft", publish=False)
    return public, staff, draft


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(item["title"] for item in response.json()["items"])


def test_api_exposes_story_fields(client, stories):
    item = client.get(STORIES).json()["items"][0]
    assert item["title"] == "Public"
    assert item["teller_name"] == "Ada Lovelace"
    assert item["theme_names"] == ["Pricing"]
    assert item["outcome_names"] == ["Time saved"]
    assert item["aha"].startswith("Posting the question")
    assert item["impact"] == "3 days saved"
    assert item["visibility"] == "public"
    assert item["transcript_text"] == "First words. Second words."


def test_api_shows_exactly_the_fields_the_schema_declares(client, stories):
    public, _staff, _draft = stories
    item = client.get(f"/api/v2/pages/{public.pk}/").json()
    assert [key for key in item if key not in ("id", "meta", "title")] == schema.api_names()


def test_a_field_added_to_the_schema_reaches_the_api(client, stories, monkeypatch):
    public, _staff, _draft = stories
    detail = f"/api/v2/pages/{public.pk}/"
    assert "last_published_at" not in client.get(detail).json()

    extra = schema.StoryField(
        "last_published_at", schema.Kind.DATE, "Last published", api_name="last_published_at"
    )
    monkeypatch.setattr(schema, "STORY_FIELDS", (*schema.STORY_FIELDS, extra))

    shown = client.get(detail).json()["last_published_at"]
    assert parse_datetime(shown) == public.last_published_at
    listed = client.get(STORIES).json()["items"][0]
    assert parse_datetime(listed["last_published_at"]) == public.last_published_at


def test_anonymous_api_listing_has_public_stories_only(client, stories):
    assert titles(client.get(STORIES)) == ["Public"]
    assert client.get(STORIES).json()["meta"]["total_count"] == 1


def test_signed_in_api_listing_includes_staff_only_stories_but_no_drafts(signed_in_client, stories):
    assert titles(signed_in_client.get(STORIES)) == ["Public", "Staff only"]


def test_untyped_page_listing_hides_the_same_stories(client, signed_in_client, stories):
    anonymous = [item["title"] for item in client.get("/api/v2/pages/?limit=20").json()["items"]]
    assert "Public" in anonymous and "Staff only" not in anonymous and "Draft" not in anonymous
    signed_in = [item["title"] for item in signed_in_client.get("/api/v2/pages/?limit=20").json()["items"]]
    assert "Staff only" in signed_in and "Draft" not in signed_in


def test_api_detail_of_staff_only_story_is_hidden_from_anonymous_readers(client, signed_in_client, stories):
    public, staff, draft = stories
    assert client.get(f"/api/v2/pages/{public.pk}/").status_code == 200
    assert client.get(f"/api/v2/pages/{staff.pk}/").status_code == 404
    assert signed_in_client.get(f"/api/v2/pages/{staff.pk}/").json()["title"] == "Staff only"
    assert signed_in_client.get(f"/api/v2/pages/{draft.pk}/").status_code == 404


def test_api_find_by_path_respects_visibility(client, signed_in_client, stories):
    _public, staff, _draft = stories
    find = f"/api/v2/pages/find/?html_path=/stories/{staff.slug}/"
    assert client.get(find).status_code == 404
    assert signed_in_client.get(find).status_code == 302  # redirects to the detail view


def test_api_filters_and_search_cannot_reach_hidden_stories(client, stories):
    assert titles(client.get(STORIES + "&visibility=staff")) == []
    assert titles(client.get("/api/v2/pages/?type=stories.StoryPage&search=Staff")) == []


def test_api_is_read_only(signed_in_client, stories):
    public, _staff, _draft = stories
    assert signed_in_client.post("/api/v2/pages/", {"title": "x"}).status_code == 405
    assert signed_in_client.delete(f"/api/v2/pages/{public.pk}/").status_code == 405
