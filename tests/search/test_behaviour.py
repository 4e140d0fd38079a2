"""The search behaviour every backend must show; runs on the embedded index and, when
ELASTICSEARCH_URL is set, on a live Elasticsearch (marked elasticsearch_live)."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser

from search.query import SearchQuery
from search.service import related_stories, search_stories, suggest
from stories.models import TranscriptSegment, Visibility
from tests.factories import OutcomeTypeFactory, PersonFactory, ThemeFactory, UserFactory, make_story

pytestmark = pytest.mark.django_db

ANONYMOUS = AnonymousUser()


def publish_with_transcript(title: str, segments: list[tuple[float, float, str]], **fields):
    story = make_story(title=title, publish=False, source="voice", **fields)
    story.transcript_segments = [
        TranscriptSegment(start=start, end=end, text=text) for start, end, text in segments
    ]
    story.save_revision().publish()
    story.refresh_from_db()
    return story


def find(user=ANONYMOUS, **params):
    page_size = params.pop("per_page", 10)
    return search_stories(SearchQuery.from_params(params, per_page=page_size), user)


def titles(page) -> list[str]:
    return [result.story.title for result in page.results]


def counts(page, facet: str) -> dict[str, int]:
    return {value.value: value.count for value in page.facets[facet]}


@pytest.fixture
def library(index_now):
    """A small library: three themes, three people, two outcome types, stories across years."""
    support, onboarding, data = (
        ThemeFactory(name=name) for name in ("Customer support", "Onboarding", "Data")
    )
    time_saved, expert = OutcomeTypeFactory(name="Time saved"), OutcomeTypeFactory(name="Expert found")
    ada = PersonFactory(name="Ada Lovelace", slug="ada-lovelace")
    grace = PersonFactory(name="Grace Hopper", slug="grace-hopper")
    alan = PersonFactory(name="Alan Turing", slug="alan-turing")
    stories = {
        "inbox": make_story(
            title="Customer questions answered the same day",
            themes=[support],
            outcome_types=[time_saved],
            teller=ada,
            occurred_on=datetime.date(2024, 3, 1),
            helpful_count=2,
            source="form",
        ),
        "buddy": make_story(
            title="An onboarding buddy for every new starter",
            context="New starters felt lost in their first week.",
            aha="A buddy answers the questions nobody dares to ask in a meeting.",
            outcome="New starters settle in faster.",
            themes=[onboarding],
            outcome_types=[expert],
            teller=grace,
            people=[ada],
            occurred_on=datetime.date(2023, 5, 2),
            helpful_count=9,
            source="form",
        ),
        "pipeline": make_story(
            title="A nightly data pipeline replaced the spreadsheet",
            context="Sales figures lived in a shared spreadsheet.",
            aha="The warehouse could do the joins for us.",
            outcome="Reports arrive before breakfast.",
            themes=[data, support],
            outcome_types=[time_saved],
            teller=alan,
            people=[grace],
            occurred_on=datetime.date(2024, 9, 9),
            helpful_count=5,
            source="form",
        ),
        "secret": make_story(
            title="Staff-only pricing experiment",
            aha="Customers accepted the new pricing tiers.",
            themes=[support],
            outcome_types=[expert],
            teller=PersonFactory(name="Hedy Lamarr", slug="hedy-lamarr"),
            visibility=Visibility.STAFF,
            occurred_on=datetime.date(2022, 1, 1),
            source="form",
        ),
        "voice": publish_with_transcript(
            "Voice note from the warehouse floor",
            [
                (0.0, 4.0, "So this happened on the night shift."),
                (83.2, 90.0, "The scanner kept failing on damp labels."),
                (120.0, 125.0, "We laminated the labels and the scanner worked."),
            ],
            context="Labels on the warehouse floor got wet.",
            aha="Laminating the labels fixed it.",
            outcome="No more failed scans.",
            themes=[data],
            teller=alan,
            occurred_on=datetime.date(2024, 11, 1),
        ),
        "draft": make_story(title="Draft about customer pricing", themes=[support], publish=False),
    }
    index_now()
    return stories


def test_text_search_matches_other_word_forms(library):
    page = find(q="answering questions")
    assert "Customer questions answered the same day" in titles(page)
    assert "An onboarding buddy for every new starter" in titles(page)


def test_every_word_must_match_somewhere(library):
    assert titles(find(q="spreadsheet breakfast")) == ["A nightly data pipeline replaced the spreadsheet"]
    assert find(q="spreadsheet unicorn").total == 0


def test_title_match_ranks_above_aha_above_context_above_transcript(index_now):
    make_story(title="Routine rota", context="We changed the rota for the lighthouse.")
    make_story(title="Lighthouse visits for new staff")
    make_story(title="Second try", aha="The lighthouse was the meeting point all along.")
    publish_with_transcript("Clip about rotas", [(5.0, 8.0, "we met at the lighthouse every week")])
    index_now()
    assert titles(find(q="lighthouse")) == [
        "Lighthouse visits for new staff",
        "Second try",
        "Routine rota",
        "Clip about rotas",
    ]


def test_filters_narrow_results_and_combine(library):
    assert sorted(titles(find(theme="data"))) == [
        "A nightly data pipeline replaced the spreadsheet",
        "Voice note from the warehouse floor",
    ]
    assert titles(find(theme="data", outcome="time-saved")) == [
        "A nightly data pipeline replaced the spreadsheet"
    ]
    assert titles(find(year="2023")) == ["An onboarding buddy for every new starter"]
    assert titles(find(source="voice")) == ["Voice note from the warehouse floor"]


def test_several_values_of_one_filter_mean_any_of_them(library):
    assert sorted(titles(find(theme=["onboarding", "data"]))) == [
        "A nightly data pipeline replaced the spreadsheet",
        "An onboarding buddy for every new starter",
        "Voice note from the warehouse floor",
    ]


def test_person_filter_matches_tellers_and_helpers(library):
    assert sorted(titles(find(person="ada-lovelace"))) == [
        "An onboarding buddy for every new starter",
        "Customer questions answered the same day",
    ]


def test_facet_counts_apply_the_other_filters_but_not_their_own(library):
    page = find(theme="data")
    # The theme facet ignores the theme filter, so other themes stay selectable with their full counts.
    assert counts(page, "theme") == {"customer-support": 2, "onboarding": 1, "data": 2}
    # Every other facet is counted within the chosen theme.
    assert counts(page, "person") == {"alan-turing": 2, "grace-hopper": 1}
    assert counts(page, "year") == {"2024": 2}
    assert counts(page, "outcome") == {"time-saved": 1}
    assert page.total == 2


def test_a_chosen_value_outside_the_top_values_keeps_its_count(library, monkeypatch):
    from search.backends.base import FACET_SIZES

    monkeypatch.setitem(FACET_SIZES, "theme", 1)
    page = find(theme="onboarding")
    assert counts(page, "theme")["onboarding"] == 1
    assert [value.value for value in page.facets["theme"] if value.selected] == ["onboarding"]


def test_facets_follow_the_text_query(library):
    page = find(q="questions")
    assert counts(page, "theme") == {"customer-support": 1, "onboarding": 1}
    labels = {value.value: value.label for value in page.facets["theme"]}
    assert labels["customer-support"] == "Customer support"


def test_sort_by_newest_and_most_helpful(library):
    newest = titles(find(sort="newest"))
    assert newest[0] == "Voice note from the warehouse floor"
    assert newest[-1] == "Customer questions answered the same day"
    assert titles(find(sort="helpful"))[:3] == [
        "An onboarding buddy for every new starter",
        "A nightly data pipeline replaced the spreadsheet",
        "Customer questions answered the same day",
    ]


def test_pages_split_results_without_changing_the_total(library):
    first, second = find(sort="newest", per_page=2), find(sort="newest", per_page=2, page="2")
    third = find(sort="newest", per_page=2, page="3")
    assert first.total == second.total == third.total == 4
    assert len(titles(first)) == len(titles(second)) == 2 and len(titles(third)) == 0
    assert not set(titles(first)) & set(titles(second))


def test_matches_are_highlighted(library):
    page = find(q="joins")
    highlights = page.results[0].hit.highlights
    assert highlights["aha"] == "The warehouse could do the <mark>joins</mark> for us."


def test_transcript_matches_give_the_time_of_each_segment(library):
    page = find(q="scanner")
    assert titles(page) == ["Voice note from the warehouse floor"]
    hits = page.results[0].hit.transcript_hits
    assert [hit.start for hit in hits] == [83.2, 120.0]
    assert hits[0].highlighted == "The <mark>scanner</mark> kept failing on damp labels."


def test_autocomplete_suggests_titles_and_people_from_a_prefix(library):
    labels = [entry.label for entry in suggest("onboard", ANONYMOUS)]
    assert labels == ["An onboarding buddy for every new starter"]
    people = [entry for entry in suggest("grac", ANONYMOUS) if entry.kind == "person"]
    assert [entry.label for entry in people] == ["Grace Hopper"]
    assert people[0].url == "/search/?person=grace-hopper"


def test_staff_only_story_hidden_from_anonymous_search(library):
    page = find(q="pricing")
    assert page.total == 0 and titles(page) == []
    everything = find()
    assert everything.total == 4
    assert "hedy-lamarr" not in counts(everything, "person")
    assert "2022" not in counts(everything, "year")
    assert counts(everything, "theme")["customer-support"] == 2
    assert suggest("staff", ANONYMOUS) == []
    assert suggest("hedy", ANONYMOUS) == []


def test_staff_only_story_found_by_signed_in_staff(library):
    staff = UserFactory()
    page = find(staff, q="pricing")
    assert titles(page) == ["Staff-only pricing experiment"]
    everything = find(staff)
    assert everything.total == 5
    assert counts(everything, "theme")["customer-support"] == 3
    assert [entry.label for entry in suggest("hedy", staff)] == ["Hedy Lamarr"]


def test_drafts_are_never_found(library):
    staff = UserFactory()
    assert find(staff, q="draft").total == 0
    assert "Draft about customer pricing" not in titles(find(staff, per_page=50))


def test_related_stories_share_themes_and_respect_visibility(library):
    related = related_stories(library["inbox"], ANONYMOUS, limit=3)
    assert related and related[0].title == "A nightly data pipeline replaced the spreadsheet"
    assert library["secret"] not in related and library["inbox"] not in related
    assert library["secret"] in related_stories(library["inbox"], UserFactory(), limit=5)
