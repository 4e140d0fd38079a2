"""Atom feeds: the latest public stories, per theme and per person."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.factories import StoryPageFactory
from tests.stories.story_helpers import days_ago, set_published

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def entries(response) -> list[ET.Element]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return ET.fromstring(response.content).findall(f"{ATOM}entry")


def entry_titles(response) -> list[str]:
    return [entry.findtext(f"{ATOM}title") for entry in entries(response)]


def test_latest_stories_feed_lists_public_stories_newest_first(client, ada, pricing):
    set_published(StoryPageFactory(title="Older", teller=ada, themes=[pricing]), days_ago(2))
    newest = set_published(
        StoryPageFactory(title="Newest", teller=ada, aha="It clicked when we drew it."), days_ago(1)
    )
    response = client.get("/feeds/stories/")
    assert entry_titles(response) == ["Newest", "Older"]
    entry = entries(response)[0]
    assert entry.find(f"{ATOM}link").get("href") == f"http://testserver{newest.url}"
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Ada Lovelace"
    assert "It clicked when we drew it." in entry.findtext(f"{ATOM}summary")
    older = entries(response)[1]
    assert [category.get("term") for category in older.findall(f"{ATOM}category")] == ["Pricing"]


def test_feeds_leave_out_staff_only_stories_and_drafts_even_for_signed_in_readers(signed_in_client, pricing):
    StoryPageFactory(title="Public", themes=[pricing])
    StoryPageFactory(title="Staff only", visibility="staff", themes=[pricing])
    StoryPageFactory(title="Draft", publish=False, themes=[pricing])
    assert entry_titles(signed_in_client.get("/feeds/stories/")) == ["Public"]
    assert entry_titles(signed_in_client.get("/feeds/themes/pricing/")) == ["Public"]


def test_theme_feed_lists_only_that_theme(client, pricing, onboarding):
    StoryPageFactory(title="About prices", themes=[pricing])
    StoryPageFactory(title="About newcomers", themes=[onboarding])
    response = client.get("/feeds/themes/pricing/")
    assert entry_titles(response) == ["About prices"]
    assert ET.fromstring(response.content).findtext(f"{ATOM}title") == "Storybank: stories about Pricing"


def test_person_feed_lists_stories_they_told_and_helped_in(client, ada, grace):
    StoryPageFactory(title="Ada told it", teller=ada)
    StoryPageFactory(title="Ada helped", teller=grace, people=[ada])
    StoryPageFactory(title="Only Grace", teller=grace)
    assert sorted(entry_titles(client.get("/feeds/people/ada-lovelace/"))) == ["Ada helped", "Ada told it"]


def test_feeds_for_unknown_theme_or_person_are_not_found(client, grace):
    StoryPageFactory(title="Grace's internal story", visibility="staff", teller=grace)
    assert client.get("/feeds/themes/nothing/").status_code == 404
    assert client.get("/feeds/people/nobody/").status_code == 404
    assert client.get("/feeds/people/grace-hopper/").status_code == 404  # no public stories


def test_pages_advertise_their_feeds(client, pricing, ada):
    StoryPageFactory(title="Story", themes=[pricing], teller=ada)
    assert 'type="application/atom+xml"' in client.get("/").content.decode()
    assert 'href="/feeds/themes/pricing/"' in client.get("/themes/pricing/").content.decode()
    assert 'href="/feeds/people/ada-lovelace/"' in client.get("/people/ada-lovelace/").content.decode()
