"""The library and /search/ are one browser: the same filters give the same stories, totals and counts.

The library is the search with no words, so for every filter (several values in one group, years,
an unknown slug, a staff-only story) it must list what /search/ lists, in the same order for the
same sort, with the same totals and facet counts; and while the index is unavailable its database
fallback must still agree, and say where its stories come from.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from search.backends import EMBEDDED
from search.sync import apply_pending_updates
from stories.models import Clip, StoryPage, Visibility
from tests.factories import (
    OutcomeTypeFactory,
    PersonFactory,
    StoryPageFactory,
    ThemeFactory,
    UserFactory,
    make_clip,
)
from tests.search.listing_markup import card_titles, every_page, facet_boxes, result_titles, total_shown
from tests.stories.story_helpers import set_published

pytestmark = pytest.mark.django_db

FALLBACK_NOTICE = "Search is catching up, so these stories come straight from the database"

FILTERS = {
    "everything": [],
    "two themes": [("theme", "meetings"), ("theme", "tooling")],
    "theme and person": [("theme", "meetings"), ("person", "ada-lovelace")],
    "a year": [("year", "2024")],
    "two years": [("year", "2024"), ("year", "2023")],
    "an unknown theme": [("theme", "no-such-theme")],
    "a theme and an unknown one": [("theme", "tooling"), ("theme", "no-such-theme")],
    "a helper": [("person", "grace-hopper")],
    "an outcome, most helpful first": [("outcome", "time-saved"), ("sort", "helpful")],
    "most helpful first": [("sort", "helpful")],
    "a year, newest first": [("year", "2024"), ("sort", "newest")],
    "a language": [("language", "de")],
    "two languages, one of them typed stories'": [("language", "fr"), ("language", "en")],
    "a language and a theme": [("language", "de"), ("theme", "meetings")],
    "an unknown language": [("language", "xx")],
}


@pytest.fixture
def library_stories(settings):
    """Fourteen stories (two library pages), one of them staff-only, each published on its own day.

    The wiki pages have no date of their own: their year is the one they were published in (2025).
    """
    settings.STORYBANK_SEARCH_BACKEND = EMBEDDED
    settings.ELASTICSEARCH_URL = None
    meetings, tooling, hiring = (ThemeFactory(name=name) for name in ("Meetings", "Tooling", "Hiring"))
    time_saved = OutcomeTypeFactory(name="Time saved")
    ada = PersonFactory(name="Ada Lovelace", slug="ada-lovelace")
    grace = PersonFactory(name="Grace Hopper", slug="grace-hopper")
    specs = [
        ("Stand-up in ten minutes", [meetings], ada, [], [time_saved], dt.date(2024, 2, 1), 3),
        ("Retro that changed the plan", [meetings], grace, [ada], [], dt.date(2023, 6, 1), 1),
        ("A linter for the wiki", [tooling], ada, [grace], [time_saved], dt.date(2024, 9, 1), 5),
        ("Hiring loop, shorter", [hiring], grace, [], [], dt.date(2022, 1, 1), 14),
        ("Meeting-free Fridays", [meetings, tooling], None, [grace], [time_saved], dt.date(2024, 4, 1), 2),
    ]
    # Helpful counts differ so "most helpful first" has one order (the engines break ties differently).
    specs += [(f"Wiki page {number}", [tooling], None, [], [], None, 6 + number) for number in range(8)]
    for day, (title, themes, teller, helpers, outcomes, occurred_on, helpful) in enumerate(specs, start=2):
        story = StoryPageFactory(
            title=title,
            themes=themes,
            teller=teller,
            people=helpers,
            outcome_types=outcomes,
            occurred_on=occurred_on,
        )
        StoryPage.objects.filter(pk=story.pk).update(helpful_count=helpful)
        set_published(story, dt.datetime(2025, 1, day, 9, 0, tzinfo=dt.UTC))
    staff_only = StoryPageFactory(
        title="Staff-only timer policy",
        themes=[meetings],
        people=[grace],
        occurred_on=dt.date(2024, 3, 1),
        visibility=Visibility.STAFF,
    )
    StoryPage.objects.filter(pk=staff_only.pk).update(helpful_count=4)
    set_published(staff_only, dt.datetime(2025, 2, 1, 9, 0, tzinfo=dt.UTC))
    # Told by voice in German and French (as Whisper heard them); every other story is English.
    for title, language in (("Retro that changed the plan", "de"), ("Hiring loop, shorter", "fr")):
        clip = make_clip()
        Clip.objects.filter(pk=clip.pk).update(language=language)
        StoryPage.objects.filter(title=title).update(clip=clip)
    apply_pending_updates()


def staff_client() -> Client:
    browser = Client()
    browser.force_login(UserFactory(username="colleague"))
    return browser


def shown_by_library(client, params) -> tuple[list[str], int, dict, str]:
    titles, first_page = every_page(client, "/stories/", params, card_titles)
    return titles, total_shown(first_page), facet_boxes(first_page), first_page


def shown_by_search(client, params) -> tuple[list[str], int, dict]:
    titles, first_page = every_page(client, "/search/", params, result_titles)
    return titles, total_shown(first_page), facet_boxes(first_page)


@pytest.mark.parametrize("name", list(FILTERS))
def test_library_and_search_agree_on_every_filter_for_anonymous_and_staff_readers(library_stories, name):
    params = FILTERS[name]
    for client in (Client(), staff_client()):
        library_titles, library_total, library_facets, _ = shown_by_library(client, params)
        search_titles, search_total, search_facets = shown_by_search(client, params)
        assert library_titles == search_titles
        assert library_total == search_total == len(library_titles)
        assert library_facets == search_facets


def test_both_list_the_staff_only_story_for_staff_alone(library_stories):
    params = [("theme", "meetings")]
    anonymous_titles, anonymous_total, anonymous_facets, _ = shown_by_library(Client(), params)
    staff_titles, staff_total, staff_facets, _ = shown_by_library(staff_client(), params)
    assert anonymous_titles == [
        "Meeting-free Fridays",
        "Retro that changed the plan",
        "Stand-up in ten minutes",
    ]
    assert staff_titles == ["Staff-only timer policy", *anonymous_titles]
    assert (anonymous_total, staff_total) == (3, 4)
    assert shown_by_search(Client(), params)[0] == anonymous_titles
    assert shown_by_search(staff_client(), params)[0] == staff_titles
    assert anonymous_facets["theme"]["meetings"] == ("Meetings", 3, True)
    assert staff_facets["theme"]["meetings"] == ("Meetings", 4, True)


def test_several_values_in_one_group_match_any_and_count_with_the_other_groups(library_stories):
    titles, total, facets, _ = shown_by_library(Client(), FILTERS["two themes"] + [("year", "2024")])
    assert titles == ["Meeting-free Fridays", "A linter for the wiki", "Stand-up in ten minutes"]
    assert total == 3
    # Each group is counted with the other groups' filters: themes within 2024, years within either theme.
    assert facets["theme"] == {"meetings": ("Meetings", 2, True), "tooling": ("Tooling", 2, True)}
    assert facets["year"] == {
        "2025": ("2025", 8, False),
        "2024": ("2024", 3, True),
        "2023": ("2023", 1, False),
    }


def test_the_language_filter_names_each_language_and_counts_with_the_other_groups(library_stories):
    titles, total, facets, page = shown_by_library(
        Client(), FILTERS["two languages, one of them typed stories'"]
    )
    assert "Hiring loop, shorter" in titles and "Retro that changed the plan" not in titles
    assert total == 12
    assert facets["language"] == {
        "en": ("English", 11, True),
        "fr": ("French", 1, True),
        "de": ("German", 1, False),
    }
    assert "<legend>Language</legend>" in page


def test_a_library_told_in_one_language_shows_no_language_filter(settings):
    settings.STORYBANK_SEARCH_BACKEND = EMBEDDED
    settings.ELASTICSEARCH_URL = None
    StoryPageFactory(title="Stand-up in ten minutes")
    apply_pending_updates()
    for path in ("/stories/", "/search/?q=stand-up"):
        page = Client().get(path).content.decode()
        assert total_shown(page) == 1
        assert "<legend>Language</legend>" not in page
    chosen = Client().get("/search/", {"q": "stand-up", "language": "en"}).content.decode()
    assert "<legend>Language</legend>" in chosen  # a chosen value always shows, to be taken off


def test_library_reports_an_unknown_slug_and_offers_to_leave_it_out(library_stories):
    _, total, _, page = shown_by_library(Client(), FILTERS["a theme and an unknown one"])
    assert total == 10  # the known theme's stories: the unknown one adds none
    assert "There is no theme “no-such-theme”." in page
    assert 'href="/stories/?theme=tooling">Leave it out</a>' in page


def test_library_sorted_by_helpfulness_lists_the_most_helpful_first(library_stories):
    titles, _, _, _ = shown_by_library(Client(), FILTERS["an outcome, most helpful first"])
    assert titles == ["A linter for the wiki", "Stand-up in ten minutes", "Meeting-free Fridays"]


@pytest.mark.parametrize("name", list(FILTERS))
def test_database_fallback_lists_what_the_index_lists_and_says_so(library_stories, settings, tmp_path, name):
    params = FILTERS[name]
    built_index = settings.SEARCH_INDEX_DIR
    for client in (Client(), staff_client()):
        settings.SEARCH_INDEX_DIR = built_index
        indexed_titles, indexed_total, indexed_facets, indexed_page = shown_by_library(client, params)
        settings.SEARCH_INDEX_DIR = tmp_path / "no-index-here"  # an index that was never built
        fallback_titles, fallback_total, fallback_facets, fallback_page = shown_by_library(client, params)
        assert FALLBACK_NOTICE not in indexed_page
        assert FALLBACK_NOTICE in fallback_page
        assert (fallback_titles, fallback_total, fallback_facets) == (
            indexed_titles,
            indexed_total,
            indexed_facets,
        )
