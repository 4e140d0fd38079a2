"""Search never tells a reader about what they may not see: not in results, totals, facets or labels.

- A story that turned staff-only, was unpublished or deleted drops out of anonymous totals and
  facet counts at once, before the worker has applied its queued update.
- A theme still waiting for approval, or a person who appears only in stories hidden from this
  reader, is never named: a filter on them behaves exactly like a filter on nothing that exists.
- A proposed theme appears on no result card, in no API payload and in no facet.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from search.query import SearchQuery
from search.service import search_stories, suggest
from search.sync import apply_pending_updates
from stories.models import StoryPage, Visibility
from tests.factories import PersonFactory, StoryPageFactory, ThemeFactory, UserFactory

pytestmark = pytest.mark.django_db

ANONYMOUS = AnonymousUser()


@pytest.fixture
def embedded(settings):
    settings.ELASTICSEARCH_URL = None


@pytest.fixture
def pricing_story(embedded):
    """A public story whose theme and teller appear nowhere else, indexed."""
    grace = PersonFactory(name="Grace Hopper", slug="grace-hopper")
    pricing = ThemeFactory(name="Pricing")
    story = StoryPageFactory(title="Secret pricing experiment", themes=[pricing], teller=grace)
    StoryPageFactory(title="An unrelated public story", themes=[ThemeFactory(name="Meetings")])
    apply_pending_updates()
    return story


def facet_values(page, facet: str) -> list[str]:
    return [value.value for value in page.facets.get(facet, [])]


def search(user=ANONYMOUS, **params):
    return search_stories(SearchQuery.from_params(params), user)


def test_story_turned_staff_only_leaves_anonymous_totals_and_facets_before_the_index_catches_up(
    pricing_story, client
):
    pricing_story.visibility = Visibility.STAFF
    pricing_story.save_revision().publish()  # queued; the worker has not run

    page = search()
    assert page.total == 1 and [result.story.title for result in page.results] == [
        "An unrelated public story"
    ]
    assert "pricing" not in facet_values(page, "theme")
    assert "grace-hopper" not in facet_values(page, "person")
    assert search(q="pricing").total == 0
    api = client.get("/api/search/", {"q": "pricing"})
    assert api.json()["total"] == 0 and "Grace Hopper" not in api.content.decode()
    assert search(UserFactory(), q="pricing").total == 1  # signed-in readers may still see it


def test_unpublished_story_leaves_every_readers_totals_at_once(pricing_story):
    StoryPage.objects.get(pk=pricing_story.pk).unpublish()

    assert search(q="pricing").total == 0
    assert search(UserFactory(), q="pricing").total == 0
    assert "pricing" not in facet_values(search(UserFactory()), "theme")


def test_deleted_story_leaves_totals_and_facets_at_once(pricing_story):
    StoryPage.objects.get(pk=pricing_story.pk).delete()

    page = search()
    assert page.total == 1 and "grace-hopper" not in facet_values(page, "person")


def test_autocomplete_forgets_a_story_turned_staff_only_at_once(pricing_story):
    pricing_story.visibility = Visibility.STAFF
    pricing_story.save_revision().publish()

    assert suggest("Grace", ANONYMOUS) == []
    assert suggest("Secret pri", ANONYMOUS) == []


def test_autocomplete_skips_people_only_in_staff_stories_and_still_fills_its_list(embedded):
    """Names are matched before the visibility check, a few at a time: the hidden never show, the rest still do."""
    hidden = [PersonFactory(name=f"Alma Hidden{n}", slug=f"alma-hidden-{n}") for n in range(3)]
    shown = [PersonFactory(name=f"Alma Shown{n}", slug=f"alma-shown-{n}") for n in range(3)]
    for person in hidden:
        StoryPageFactory(title=f"Note by {person.name}", teller=person, visibility=Visibility.STAFF)
    StoryPageFactory(title="A public story", teller=shown[0], people=shown[1:])
    apply_pending_updates()

    people = [entry.label for entry in suggest("alma", ANONYMOUS, limit=2) if entry.kind == "person"]
    assert people == ["Alma Shown0", "Alma Shown1", "Alma Shown2"]  # limit 2 = up to 4 entries in all
    # Signed in, two staff-only titles match too: they come first and leave room for two people.
    signed_in = [(entry.kind, entry.label) for entry in suggest("alma", UserFactory(), limit=2)]
    assert [label for kind, label in signed_in if kind == "person"] == ["Alma Hidden0", "Alma Hidden1"]
    assert len(signed_in) == 4


def test_filter_on_a_proposed_theme_or_a_person_only_in_a_draft_names_neither(embedded, client):
    ThemeFactory(name="Secret project", slug="secret-project", is_approved=False)
    dana = PersonFactory(name="Dana Draftonly", slug="dana-draftonly")
    StoryPageFactory(title="Unfinished draft", teller=dana, publish=False)
    StoryPageFactory(title="Published story", themes=[ThemeFactory(name="Meetings")])
    apply_pending_updates()

    asked = client.get("/api/search/", {"theme": "secret-project", "person": "dana-draftonly"})
    nothing = client.get("/api/search/", {"theme": "no-such-theme", "person": "no-such-person"})
    html = client.get("/search/", {"theme": "secret-project", "person": "dana-draftonly"}).content.decode()

    assert "Secret project" not in asked.content.decode() and "Dana Draftonly" not in asked.content.decode()
    assert "Secret project" not in html and "Dana Draftonly" not in html
    answer, control = asked.json(), nothing.json()
    assert (answer["total"], answer["results"], answer["facets"]) == (
        control["total"],
        control["results"],
        control["facets"],
    )


def test_person_only_in_staff_stories_is_not_named_to_anonymous_readers(embedded, client):
    ines = PersonFactory(name="Ines Insider", slug="ines-insider")
    StoryPageFactory(
        title="Staff-only story", teller=ines, themes=[ThemeFactory()], visibility=Visibility.STAFF
    )
    apply_pending_updates()

    anonymous = client.get("/api/search/", {"person": "ines-insider"})
    assert "Ines Insider" not in anonymous.content.decode() and anonymous.json()["total"] == 0

    client.force_login(UserFactory())
    signed_in = client.get("/api/search/", {"person": "ines-insider"})
    assert signed_in.json()["total"] == 1 and "Ines Insider" in signed_in.content.decode()


def test_story_published_with_only_a_proposed_theme_never_shows_that_theme(embedded, client):
    proposed = ThemeFactory(name="Secret project", slug="secret-project", is_approved=False)
    StoryPageFactory(title="Story with a proposed theme", themes=[proposed])
    apply_pending_updates()

    api = client.get("/api/search/", {"q": "proposed"})
    html = client.get("/search/", {"q": "proposed"}).content.decode()

    assert api.json()["total"] == 1 and api.json()["results"][0]["themes"] == []
    assert "Secret project" not in api.content.decode()
    assert api.json()["facets"]["theme"] == []
    assert "Story with a <mark>proposed</mark> theme" in html and "Secret project" not in html
