"""The story page stays cheap: a fixed number of database queries, however many people and stories it shows.

Counted on the second visit (the first fills Wagtail's caches of site roots and renditions, as the
first visitor after a deploy does), with related stories ranked by the embedded search index.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from wagtail.models import PageViewRestriction
from wagtail_factories import ImageFactory

from search.sync import apply_pending_updates
from stories.models import StoryPage
from tests.factories import PersonFactory, StoryPageFactory, UserFactory, library
from tests.stories.story_helpers import add_transcript, attach_clip, days_ago, set_published

pytestmark = pytest.mark.django_db

# Wagtail's own share of a story page: the site, its home page (2), the page's view restrictions
# (2). Storybank's: the library, read as the library by the home page's route (1); the story
# itself, read as a story by the library's route; its
# transcript; one load of the story and its related stories, which also decides whether the reader
# may see it, with their themes, outcome types and people (4); the newer and the older neighbour (2).
ANONYMOUS_QUERIES = 13
# Signed in: the session and the user, whether they found it helpful, Wagtail's user bar (2), the
# questions this story answered (questions are for signed-in colleagues only).
SIGNED_IN_QUERIES = ANONYMOUS_QUERIES + 6


def queries_on_second_visit(browser: Client, path: str) -> int:
    assert browser.get(path).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = browser.get(path)
    assert response.status_code == 200
    return len(queries)


def card_text(html: str) -> str:
    """The page with runs of white space made one space, as a reader sees it."""
    return re.sub(r"\s+", " ", html)


def related_titles(html: str) -> list[str]:
    section = html.split('id="related-heading"')[1]
    return re.findall(r'class="story-card__title"[^>]*><a href="[^"]*">([^<]+)</a>', section)


@pytest.fixture
def story_page(settings, pricing, onboarding, time_saved, ada, grace):
    """A story with a cover, a clip, a transcript, a teller and two helpers with photos, both
    neighbours and three related stories (each with a cover, a teller and a helper), indexed."""
    settings.ELASTICSEARCH_URL = None
    ada.photo = ImageFactory(title="Ada")
    ada.save()
    hedy = PersonFactory(name="Hedy Lamarr", photo=ImageFactory(title="Hedy"))
    story = StoryPageFactory(
        title="Prices explained on one page",
        themes=[pricing, onboarding],
        outcome_types=[time_saved],
        teller=ada,
        people=[grace, hedy],
        cover_image=ImageFactory(title="Cover"),
    )
    attach_clip(story)
    add_transcript(story, [(0.0, 4.0, "It started with a question."), (4.0, 9.0, "Then the answer.")])
    set_published(story, days_ago(5))
    set_published(StoryPageFactory(title="Newer neighbour"), days_ago(4))
    set_published(StoryPageFactory(title="Older neighbour"), days_ago(6))
    for number in range(3):
        StoryPageFactory(
            title=f"Prices, again ({number})",
            themes=[pricing],
            teller=grace,
            people=[hedy],
            cover_image=ImageFactory(title=f"Cover {number}"),
        )
    apply_pending_updates(wait=True)
    return story


def test_story_page_makes_a_fixed_number_of_queries_for_an_anonymous_reader(client, story_page):
    assert queries_on_second_visit(client, story_page.url) == ANONYMOUS_QUERIES
    html = client.get(story_page.url).content.decode()
    assert sorted(related_titles(html)) == ["Prices, again (0)", "Prices, again (1)", "Prices, again (2)"]
    assert "Newer neighbour" in html and "Older neighbour" in html


def test_story_page_makes_a_fixed_number_of_queries_for_a_signed_in_colleague(story_page):
    browser = Client()
    browser.force_login(UserFactory(username="colleague", is_staff=True))
    assert queries_on_second_visit(browser, story_page.url) == SIGNED_IN_QUERIES


def test_more_people_and_related_stories_cost_no_more_queries(client, story_page, pricing):
    story_page.people.add(PersonFactory(name="Alan Turing"), PersonFactory(name="Mary Somerville"))
    for number in range(3):
        StoryPageFactory(title=f"More on prices ({number})", themes=[pricing], people=[PersonFactory()])
    apply_pending_updates(wait=True)
    assert queries_on_second_visit(client, story_page.url) == ANONYMOUS_QUERIES


def test_story_cards_link_the_teller_and_helpers_to_pages_the_reader_may_open(client, ada, grace):
    hedy = PersonFactory(name="Hedy Lamarr")
    StoryPageFactory(title="Told with help", teller=ada, people=[grace, hedy])
    html = card_text(client.get("/stories/").content.decode())
    assert (
        f'Told by <a href="/people/{ada.slug}/">Ada Lovelace</a></span> · '
        f'<span>Helped by <a href="/people/{grace.slug}/">Grace Hopper</a>, '
        f'<a href="/people/{hedy.slug}/">Hedy Lamarr</a></span>'
    ) in html
    for person in (ada, grace, hedy):
        assert client.get(f"/people/{person.slug}/").status_code == 200


def test_a_teller_also_listed_as_helper_is_named_once_on_a_card(client, ada, grace):
    StoryPageFactory(title="Told and helped", teller=ada, people=[ada, grace])
    html = card_text(client.get("/stories/").content.decode())
    assert (
        f'Told by <a href="/people/{ada.slug}/">Ada Lovelace</a></span> · '
        f'<span>Helped by <a href="/people/{grace.slug}/">Grace Hopper</a></span>'
    ) in html


def test_stories_in_a_private_section_stay_out_of_every_listing():
    """Wagtail's view restrictions are part of the visibility rule, decided inside each query."""
    kept = StoryPageFactory(title="Open story")
    restricted = StoryPageFactory(title="Behind a password")
    PageViewRestriction.objects.create(page=restricted, restriction_type="password", password="s3cret")
    signed_in = UserFactory()
    for user in (AnonymousUser(), signed_in):
        assert list(StoryPage.objects.visible_to(user)) == [kept]
    PageViewRestriction.objects.create(page=library(), restriction_type="login")
    assert list(StoryPage.objects.visible_to(signed_in)) == []
