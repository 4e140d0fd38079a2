"""Who knows about this? People ranked by the stories they told or helped in, with the evidence."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from search.backends import EMBEDDED
from search.backends.base import RRF_K
from search.people import people_who_know, search_with_people, shares_the_ranking, tellers_and_helpers
from search.query import SearchQuery
from search.service import search_stories
from search.sync import apply_pending_updates
from stories.models import Visibility
from tests.factories import PersonFactory, StoryPageFactory, UserFactory
from tests.search.backend_contract import embed_everything_waiting, publish_with_transcript

pytestmark = pytest.mark.django_db

ANONYMOUS = AnonymousUser()


def names(people) -> list[str]:
    return [candidate.person.name for candidate in people]


def ranks(text: str, user=ANONYMOUS) -> dict[str, int]:
    """Where each story ranks in the search the ranking is built from."""
    page = search_stories(SearchQuery(text=text, per_page=30), user)
    return {result.story.title: rank for rank, result in enumerate(page.results, start=1)}


@pytest.fixture
def kanban(settings):
    settings.STORYBANK_SEARCH_BACKEND = EMBEDDED
    ada = PersonFactory(name="Ada Lovelace", slug="ada-lovelace")
    bob = PersonFactory(name="Bob Builder", slug="bob-builder")
    grace = PersonFactory(name="Grace Hopper", slug="grace-hopper")
    carl = PersonFactory(name="Carl Sagan", slug="carl-sagan")
    stories = {
        "board": StoryPageFactory(title="A kanban board for the support queue", teller=ada),
        "limits": StoryPageFactory(title="Kanban limits stopped the juggling", teller=ada),
        "wall": StoryPageFactory(
            title="The kanban wall in the warehouse", teller=bob, people=[grace, carl, bob]
        ),
        "voice": publish_with_transcript(
            "Voice note about the sprint",
            [
                (0.0, 5.0, "We met on Monday to plan the week."),
                (83.4, 88.0, "Then we moved every card onto a kanban board."),
            ],
            teller=PersonFactory(name="Dana Voice", slug="dana-voice"),
        ),
        "unrelated": StoryPageFactory(
            title="Invoices approved in one day", teller=PersonFactory(name="Eve Finance")
        ),
    }
    apply_pending_updates()
    return stories


def test_teller_of_two_matching_stories_ranks_above_helper_of_one(kanban):
    people = people_who_know("kanban", ANONYMOUS)
    order = ranks("kanban")
    assert names(people) == ["Ada Lovelace", "Bob Builder", "Dana Voice", "Carl Sagan", "Grace Hopper"]
    ada, bob, dana, carl, grace = people
    assert ada.score == pytest.approx(
        1 / (RRF_K + order["A kanban board for the support queue"])
        + 1 / (RRF_K + order["Kanban limits stopped the juggling"])
    )
    assert bob.score == pytest.approx(1 / (RRF_K + order["The kanban wall in the warehouse"]))
    assert grace.score == carl.score == pytest.approx(bob.score / 2)  # helpers count half, ties go by name


def test_limit_keeps_the_best_people(kanban):
    assert names(people_who_know("kanban", ANONYMOUS, limit=2)) == ["Ada Lovelace", "Bob Builder"]


def test_evidence_lists_the_persons_stories_roles_and_the_moment(kanban):
    people = {candidate.person.slug: candidate for candidate in people_who_know("kanban", ANONYMOUS)}
    ada, bob, grace, dana = (
        people[slug] for slug in ("ada-lovelace", "bob-builder", "grace-hopper", "dana-voice")
    )
    assert sorted((evidence.title, evidence.url, evidence.role) for evidence in ada.evidence) == [
        ("A kanban board for the support queue", kanban["board"].url, "told"),
        ("Kanban limits stopped the juggling", kanban["limits"].url, "told"),
    ]
    assert [evidence.moment for evidence in ada.evidence] == [None, None]
    assert [(evidence.title, evidence.role) for evidence in grace.evidence] == [
        ("The kanban wall in the warehouse", "helped")
    ]
    assert [(evidence.title, evidence.role) for evidence in bob.evidence] == [
        ("The kanban wall in the warehouse", "told")  # telling and helping counts once, as the teller
    ]
    [voice] = dana.evidence
    assert (voice.moment, voice.moment_url, voice.moment_clock) == (
        83.4,
        f"{kanban['voice'].url}?t=83.4",
        "1:23",
    )
    assert ada.url == "/people/ada-lovelace/"
    assert "Eve Finance" not in people


def test_a_matching_strength_is_a_small_bonus_never_a_reason_alone(kanban):
    PersonFactory(name="Kim Kanban", slug="kim-kanban").strengths.add("kanban")
    grace = kanban["wall"].people.get(slug="grace-hopper")
    grace.strengths.add("Kanban boards", "baking")
    people = people_who_know("kanban", ANONYMOUS)
    assert names(people) == ["Ada Lovelace", "Bob Builder", "Dana Voice", "Grace Hopper", "Carl Sagan"]
    assert people[3].strengths == ["Kanban boards"]
    assert people[3].score == pytest.approx(people[4].score + 0.5 / (RRF_K + 30))
    assert people[4].strengths == []


def test_staff_only_story_is_never_evidence_for_anonymous_readers(kanban):
    ines = PersonFactory(name="Ines Insider", slug="ines-insider")
    StoryPageFactory(
        title="Staff-only kanban review",
        teller=ines,
        people=[kanban["board"].teller],
        visibility=Visibility.STAFF,
    )
    apply_pending_updates()
    anonymous = {
        candidate.person.slug: candidate for candidate in people_who_know("kanban", ANONYMOUS, limit=10)
    }
    assert "ines-insider" not in anonymous
    assert sorted(evidence.title for evidence in anonymous["ada-lovelace"].evidence) == [
        "A kanban board for the support queue",
        "Kanban limits stopped the juggling",
    ]
    signed_in = {
        candidate.person.slug: candidate for candidate in people_who_know("kanban", UserFactory(), limit=10)
    }
    assert [evidence.title for evidence in signed_in["ines-insider"].evidence] == ["Staff-only kanban review"]
    assert "Staff-only kanban review" in [evidence.title for evidence in signed_in["ada-lovelace"].evidence]


def test_naming_the_people_of_the_results_costs_one_query_beyond_their_search(kanban):
    """Everyone in a result is in a story the reader may see, so nobody needs asking about again."""
    ranking_search = SearchQuery(text="kanban", per_page=30, ranking_only=True)
    with CaptureQueriesContext(connection) as search:
        search_stories(ranking_search, ANONYMOUS, cards=tellers_and_helpers)
    with CaptureQueriesContext(connection) as ranking:
        people = people_who_know("kanban", ANONYMOUS)
    assert names(people)[:2] == ["Ada Lovelace", "Bob Builder"]
    assert len(ranking) == len(search) + 1  # the one more: their self-declared strengths


def evidence_of(people) -> list[tuple]:
    return [(candidate.person.slug, candidate.score, candidate.evidence) for candidate in people]


@pytest.mark.parametrize("user", [ANONYMOUS, "colleague"])
def test_a_first_page_and_who_knows_share_one_search_and_say_what_two_would(kanban, user):
    user = UserFactory() if user == "colleague" else user
    StoryPageFactory(title="Staff-only kanban review", visibility=Visibility.STAFF)
    apply_pending_updates()
    query = SearchQuery(text="kanban", per_page=2)
    with CaptureQueriesContext(connection) as two_searches:
        page = search_stories(query, user)
        people = people_who_know("kanban", user)
    with CaptureQueriesContext(connection) as one_search:
        shared_page, shared_people = search_with_people(query, user)
    assert evidence_of(shared_people) == evidence_of(people) and people
    assert [result.story.pk for result in shared_page.results] == [result.story.pk for result in page.results]
    assert [result.hit.highlights for result in shared_page.results] == [
        result.hit.highlights for result in page.results
    ]
    assert (shared_page.total, shared_page.facets, shared_page.page_count, shared_page.has_next) == (
        page.total,
        page.facets,
        page.page_count,
        page.has_next,
    )
    assert shared_page.query == page.query
    assert len(one_search) < len(two_searches)


@pytest.mark.parametrize(
    "params",
    [{"page": 2}, {"people": ("bob-builder",)}, {"sort": "newest"}, {"retrieval": "lexical"}],
    ids=["second page", "filtered", "newest first", "words only"],
)
def test_a_page_that_does_not_begin_the_ranking_still_names_who_knows_from_its_own(kanban, params):
    query = SearchQuery(text="kanban", per_page=2, **params)
    assert not shares_the_ranking(query)
    page, people = search_with_people(query, ANONYMOUS)
    assert evidence_of(people) == evidence_of(people_who_know("kanban", ANONYMOUS))
    assert [result.story.pk for result in page.results] == [
        result.story.pk for result in search_stories(query, ANONYMOUS).results
    ]


def test_staff_only_people_stay_off_the_page_and_api_for_anonymous_readers(client, kanban):
    StoryPageFactory(
        title="Staff-only kanban review",
        teller=PersonFactory(name="Ines Insider", slug="ines-insider"),
        visibility=Visibility.STAFF,
    )
    apply_pending_updates()
    html = client.get("/search/", {"q": "kanban"}).content.decode()
    api = client.get("/api/search/", {"q": "kanban"}).json()
    assert "Ines Insider" not in html
    assert "Staff-only kanban review" not in html
    assert "ines-insider" not in [person["slug"] for person in api["people"]]
    assert "Staff-only kanban review" not in str(api["people"])


def test_search_page_shows_who_knows_with_evidence_links(client, kanban):
    html = client.get("/search/", {"q": "kanban"}).content.decode()
    assert '<section class="card people-who-know" aria-labelledby="people-who-know-heading">' in html
    assert '<h2 id="people-who-know-heading" class="search-results__count">Who knows about this?</h2>' in html
    assert '<a href="/people/ada-lovelace/">Ada Lovelace</a>' in html
    assert f'Told <a href="{kanban["limits"].url}">Kanban limits stopped the juggling</a>' in html
    assert f'Helped in <a href="{kanban["wall"].url}">The kanban wall in the warehouse</a>' in html
    voice_moment = f'<a class="result__play" href="{kanban["voice"].url}?t=83.4"><span aria-hidden="true">▶</span> Play from 1:23</a>'
    assert html.count(voice_moment) == 2  # once in the results, once as Dana's evidence


def test_more_than_three_stories_link_to_the_rest(client, kanban):
    ada = kanban["board"].teller
    for topic in ("retros", "planning"):
        StoryPageFactory(title=f"Kanban for {topic}", teller=ada)
    apply_pending_updates()
    html = client.get("/search/", {"q": "kanban"}).content.decode()
    assert '<a href="/search/?q=kanban&amp;person=ada-lovelace">1 more of their stories</a>' in html


def test_api_lists_people_with_score_and_evidence(client, kanban):
    body = client.get("/api/search/", {"q": "kanban"}).json()
    [dana] = [person for person in body["people"] if person["slug"] == "dana-voice"]
    assert dana == {
        "name": "Dana Voice",
        "slug": "dana-voice",
        "url": "/people/dana-voice/",
        "score": round(1 / (RRF_K + ranks("kanban")["Voice note about the sprint"]), 6),
        "strengths": [],
        "evidence": [
            {
                "title": "Voice note about the sprint",
                "url": kanban["voice"].url,
                "role": "told",
                "moment": {"start": 83.4, "url": f"{kanban['voice'].url}?t=83.4"},
            }
        ],
    }
    assert [person["slug"] for person in body["people"]][:2] == ["ada-lovelace", "bob-builder"]


def test_no_question_shows_no_panel(client, kanban):
    for params in ({}, {"q": "   "}, {"person": "ada-lovelace"}):
        html = client.get("/search/", params).content.decode()
        assert "Who knows about this?" not in html
        assert client.get("/api/search/", params).json()["people"] == []
    assert people_who_know("", ANONYMOUS) == []


def test_a_question_nobody_answers_shows_no_panel(client, kanban):
    html = client.get("/search/", {"q": "zeppelin"}).content.decode()
    assert "Who knows about this?" not in html


def test_a_question_in_other_words_names_the_right_person(settings, meaning_search):
    settings.STORYBANK_SEARCH_BACKEND = EMBEDDED
    StoryPageFactory(
        title="The expert on corrosion was two floors up",
        aha="A chemist in the lab knew which coating stops salt water eating the pump housings.",
        teller=PersonFactory(name="Chris Chemist", slug="chris-chemist"),
    )
    StoryPageFactory(
        title="Invoices approved in one day",
        aha="Finance moved approvals into a shared queue instead of passing paper around.",
        teller=PersonFactory(name="Fiona Finance", slug="fiona-finance"),
    )
    apply_pending_updates(wait=True)  # indexed on words first; the worker then embeds what waits
    embed_everything_waiting()
    question = "equipment rusting"
    assert search_stories(SearchQuery(text=question, retrieval="lexical"), ANONYMOUS).results == []
    assert names(people_who_know(question, ANONYMOUS)) == ["Chris Chemist"]
