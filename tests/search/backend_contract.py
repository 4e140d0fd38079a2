"""The behaviour every search backend must show, written once (Wagtail's BackendTests pattern).

`BackendContract` is subclassed once per backend (tests/search/test_embedded.py,
tests/search/test_elasticsearch_live.py); each subclass names its backend class, points the
settings at a throwaway index, and skips where its engine cannot run. Searching, filtering,
facets, autocomplete, related stories, and keeping the index in step with the database (the
queue, rebuild and verify) are all part of the contract.
"""

from __future__ import annotations

import datetime
import re
from io import StringIO

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from search.backends.base import FACET_SIZES, SearchBackend
from search.models import PendingIndexUpdate
from search.query import SearchQuery
from search.related import related_stories
from search.service import MEANING_CATCHING_UP, MEANING_READY, get_backend, search_stories, suggest
from search.sync import apply_pending_updates, embed_waiting_stories, enqueue_stories, find_drift
from stories.importing import bulk_import_mode
from stories.listing import DATABASE_ORDER
from stories.models import Clip, StoryPage, TranscriptSegment, Visibility
from stories.related import related_story_ids, stories_sharing_a_theme
from tests.factories import (
    OutcomeTypeFactory,
    PersonFactory,
    StoryPageFactory,
    ThemeFactory,
    UserFactory,
    make_clip,
)

ANONYMOUS = AnonymousUser()


def card_titles(html: str) -> list[str]:
    """The titles of the story cards in a piece of a page, in order."""
    return re.findall(r'class="story-card__title"[^>]*><a href="[^"]*">([^<]*)</a>', html)


def publish_with_transcript(title: str, segments: list[tuple[float, float, str]], **fields):
    story = StoryPageFactory(title=title, publish=False, source="voice", **fields)
    story.transcript_segments = [
        TranscriptSegment(start=start, end=end, text=text) for start, end, text in segments
    ]
    story.save_revision().publish()
    story.refresh_from_db()
    return story


def embed_everything_waiting() -> None:
    """What the worker does in the background: embed every waiting story, then apply the index updates."""
    while embed_waiting_stories():
        pass
    apply_pending_updates(wait=True)


def find(user=ANONYMOUS, **params):
    page_size = params.pop("per_page", 10)
    return search_stories(SearchQuery.from_params(params, per_page=page_size), user)


def titles(page) -> list[str]:
    return [result.story.title for result in page.results]


def counts(page, facet: str) -> dict[str, int]:
    return {value.value: value.count for value in page.facets[facet]}


def found(text: str = "", user=None, **filters) -> list[str]:
    params = {"q": text, **filters}
    page = search_stories(SearchQuery.from_params(params), user or AnonymousUser())
    return [result.story.title for result in page.results]


@pytest.mark.django_db
class BackendContract:
    """Behaviour tests run against `backend_class`; subclasses say how to reach their engine."""

    backend_class: str = ""

    def configure(self, settings) -> None:
        """Point the settings at a throwaway index of this backend (or skip, saying why)."""

    def live_build(self, backend: SearchBackend) -> str:
        """The name of the build the index serves now."""
        raise NotImplementedError

    def build_exists(self, backend: SearchBackend, build: str) -> bool:
        """Whether a build by that name is still stored."""
        raise NotImplementedError

    @pytest.fixture
    def search_backend(self, settings):
        settings.STORYBANK_SEARCH_BACKEND = self.backend_class
        self.configure(settings)
        backend = get_backend()
        yield backend
        backend.drop_everything()

    @pytest.fixture
    def built_index(self, search_backend):
        """The index, built, holding one published story."""
        StoryPageFactory(title="Existing story about kanban boards")
        apply_pending_updates()
        assert search_backend.exists()
        return search_backend

    @pytest.fixture
    def index_now(self, search_backend):
        """Apply the queued index updates the way the worker does, and return the backend."""

        def apply():
            apply_pending_updates(wait=True)
            return search_backend

        return apply

    # -- searching ---------------------------------------------------------------------------------

    @pytest.fixture
    def library(self, index_now):
        """A small library: three themes, three people, two outcome types, stories across years."""
        support, onboarding, data = (
            ThemeFactory(name=name) for name in ("Customer support", "Onboarding", "Data")
        )
        time_saved, expert = OutcomeTypeFactory(name="Time saved"), OutcomeTypeFactory(name="Expert found")
        ada = PersonFactory(name="Ada Lovelace", slug="ada-lovelace")
        grace = PersonFactory(name="Grace Hopper", slug="grace-hopper")
        alan = PersonFactory(name="Alan Turing", slug="alan-turing")
        stories = {
            "inbox": StoryPageFactory(
                title="Customer questions answered the same day",
                themes=[support],
                outcome_types=[time_saved],
                teller=ada,
                occurred_on=datetime.date(2024, 3, 1),
                helpful_count=2,
                source="form",
            ),
            "buddy": StoryPageFactory(
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
            "pipeline": StoryPageFactory(
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
            "secret": StoryPageFactory(
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
            "draft": StoryPageFactory(title="Draft about customer pricing", themes=[support], publish=False),
        }
        index_now()
        return stories

    def test_text_search_matches_other_word_forms(self, library):
        page = find(q="answering questions")
        assert "Customer questions answered the same day" in titles(page)
        assert "An onboarding buddy for every new starter" in titles(page)

    def test_every_word_of_a_short_query_must_match_somewhere(self, library):
        assert titles(find(q="spreadsheet breakfast")) == ["A nightly data pipeline replaced the spreadsheet"]
        assert find(q="spreadsheet unicorn").total == 0

    def test_title_match_ranks_above_aha_above_context_above_transcript(self, index_now):
        StoryPageFactory(title="Routine rota", context="We changed the rota for the lighthouse.")
        StoryPageFactory(title="Lighthouse visits for new staff")
        StoryPageFactory(title="Second try", aha="The lighthouse was the meeting point all along.")
        publish_with_transcript("Clip about rotas", [(5.0, 8.0, "we met at the lighthouse every week")])
        index_now()
        assert titles(find(q="lighthouse")) == [
            "Lighthouse visits for new staff",
            "Second try",
            "Routine rota",
            "Clip about rotas",
        ]

    # -- ranking words ----------------------------------------------------------------------------

    def test_short_queries_need_every_word_longer_ones_most_of_them_and_all_words_rank_first(self, index_now):
        StoryPageFactory(title="Damp labels", aha="The scanner failed in the cold warehouse.")
        StoryPageFactory(title="Warehouse scanner", aha="A new scanner for the warehouse.")
        StoryPageFactory(title="Labels", aha="Printed labels.")
        index_now()
        assert find(q="scanner unicorn").total == 0  # two words: both needed
        three = titles(find(q="labels scanner warehouse"))  # three words: two are enough
        assert three == ["Damp labels", "Warehouse scanner"]

    def test_question_words_are_ignored_and_a_long_question_finds_its_key_words(self, library):
        assert titles(find(q="what is a buddy?")) == ["An onboarding buddy for every new starter"]
        question = "how can we help our new starters who feel lost in their first week at work?"
        assert titles(find(q=question))[0] == "An onboarding buddy for every new starter"

    def test_words_close_together_rank_above_the_same_words_apart(self, index_now):
        StoryPageFactory(title="Notes", aha="The night shift kept a log of every pallet that tipped over.")
        StoryPageFactory(
            title="Notes too", aha="Pallet counts were wrong; the log of the night shift was lost."
        )
        index_now()
        assert titles(find(q="pallet tipped"))[0] == "Notes"
        assert titles(find(q="night shift log")) == ["Notes", "Notes too"]

    def test_a_typo_in_a_longer_word_still_finds_the_story(self, library):
        assert titles(find(q="onbaording")) == ["An onboarding buddy for every new starter"]
        assert titles(find(q="spredsheet")) == ["A nightly data pipeline replaced the spreadsheet"]
        assert find(q="bddy").total == 0  # four letters: no typo forgiven

    # -- ranking meaning --------------------------------------------------------------------------

    @pytest.fixture
    def meaning_library(self, meaning_search, index_now):
        """Stories whose words differ from the questions asked of them, with their vectors indexed."""
        support = ThemeFactory(name="Field service")
        stories = {
            "corrosion": StoryPageFactory(
                title="The expert on corrosion was two floors up",
                aha="A chemist in the lab knew which coating stops salt water eating the pump housings.",
                themes=[support],
            ),
            "invoices": StoryPageFactory(
                title="Invoices approved in one day",
                aha="Finance moved approvals into a shared queue instead of passing paper around.",
            ),
            "secret": StoryPageFactory(
                title="Staff-only note on oxidised valves",
                aha="Oxidation on the valves came from the cleaning fluid.",
                themes=[support],
                visibility=Visibility.STAFF,
            ),
            "voice": publish_with_transcript(
                "Voice note from the harbour",
                [
                    (0.0, 6.0, "We drove out to the harbour on a Monday morning to look at the boats."),
                    (41.5, 48.0, "Every metal bracket near the seawater had gone orange and flaky."),
                    (60.0, 66.0, "After lunch we wrote the report and sent it to the office."),
                ],
                aha="A quick visit beats a long email thread.",
            ),
        }
        index_now()
        embed_everything_waiting()
        return stories

    def test_a_question_in_other_words_finds_the_story_by_meaning(self, meaning_library):
        question = "equipment rusting"
        assert titles(search_stories(SearchQuery(text=question, retrieval="lexical"), ANONYMOUS)) == []
        page = search_stories(SearchQuery(text=question), ANONYMOUS)
        assert titles(page)[0] == "The expert on corrosion was two floors up"
        assert "Invoices approved in one day" not in titles(page)
        assert page.total == len(page.results)
        assert page.meaning == MEANING_READY

    def test_a_semantic_hit_in_a_transcript_points_at_the_moment(self, meaning_library):
        page = search_stories(SearchQuery(text="salt water rust on metal parts by the sea"), ANONYMOUS)
        voice = next(result for result in page.results if result.story.title == "Voice note from the harbour")
        assert [hit.start for hit in voice.hit.transcript_hits] == [41.5]

    def test_meaning_never_reaches_a_story_the_reader_may_not_see(self, meaning_library):
        question = SearchQuery(text="oxidation damage on valves and pumps")
        anonymous = search_stories(question, ANONYMOUS)
        assert "Staff-only note on oxidised valves" not in titles(anonymous)
        assert anonymous.total == len(anonymous.results)
        assert counts(anonymous, "theme") == {"field-service": 1}
        staff = search_stories(question, UserFactory())
        assert "Staff-only note on oxidised valves" in titles(staff)
        assert counts(staff, "theme") == {"field-service": 2}

    def test_facet_filters_narrow_meaning_matches_like_word_matches(self, meaning_library):
        page = search_stories(SearchQuery(text="equipment rusting", themes=("field-service",)), ANONYMOUS)
        assert titles(page) == ["The expert on corrosion was two floors up"]
        assert page.total == 1

    def test_pages_of_a_search_by_words_and_meaning_come_from_one_ranking(self, meaning_library, index_now):
        for number in range(6):
            StoryPageFactory(
                title=f"Weekly metal report number {number}",
                aha="The weekly report on metal prices went out.",
            )
        StoryPageFactory(
            title="Rust on the pump housings",
            aha="Salt water ate the metal brackets and the pumps went orange.",
            context="Someone finally wrote a report about it.",
        )
        index_now()
        embed_everything_waiting()
        question = "report on rusty metal"
        pages = [
            search_stories(SearchQuery(text=question, per_page=2, page=n), ANONYMOUS) for n in (1, 2, 3, 4)
        ]
        shown = [title for page in pages for title in titles(page)]
        whole = titles(search_stories(SearchQuery(text=question, per_page=8), ANONYMOUS))
        assert len(shown) == 8 and len(set(shown)) == 8  # no story on two pages
        assert shown == whole

    def test_without_vectors_search_still_matches_words(self, meaning_search, index_now):
        StoryPageFactory(title="Corrosion on the pumps")
        index_now()  # the worker has not embedded it yet
        page = search_stories(SearchQuery(text="corrosion pumps"), ANONYMOUS)
        assert titles(page) == ["Corrosion on the pumps"]
        assert page.meaning == MEANING_CATCHING_UP

    def test_filters_narrow_results_and_combine(self, library):
        assert sorted(titles(find(theme="data"))) == [
            "A nightly data pipeline replaced the spreadsheet",
            "Voice note from the warehouse floor",
        ]
        assert titles(find(theme="data", outcome="time-saved")) == [
            "A nightly data pipeline replaced the spreadsheet"
        ]
        assert titles(find(year="2023")) == ["An onboarding buddy for every new starter"]
        assert titles(find(source="voice")) == ["Voice note from the warehouse floor"]

    def test_several_values_of_one_filter_mean_any_of_them(self, library):
        assert sorted(titles(find(theme=["onboarding", "data"]))) == [
            "A nightly data pipeline replaced the spreadsheet",
            "An onboarding buddy for every new starter",
            "Voice note from the warehouse floor",
        ]

    def test_person_filter_matches_tellers_and_helpers(self, library):
        assert sorted(titles(find(person="ada-lovelace"))) == [
            "An onboarding buddy for every new starter",
            "Customer questions answered the same day",
        ]

    def test_facet_counts_apply_the_other_filters_but_not_their_own(self, library):
        page = find(theme="data")
        # The theme facet ignores the theme filter, so other themes stay selectable with their full counts.
        assert counts(page, "theme") == {"customer-support": 2, "onboarding": 1, "data": 2}
        # Every other facet is counted within the chosen theme.
        assert counts(page, "person") == {"alan-turing": 2, "grace-hopper": 1}
        assert counts(page, "year") == {"2024": 2}
        assert counts(page, "outcome") == {"time-saved": 1}
        assert page.total == 2

    def test_a_chosen_value_outside_the_top_values_keeps_its_count(self, library, monkeypatch):
        monkeypatch.setitem(FACET_SIZES, "theme", 1)
        page = find(theme="onboarding")
        assert counts(page, "theme")["onboarding"] == 1
        assert [value.value for value in page.facets["theme"] if value.selected] == ["onboarding"]

    def test_facets_follow_the_text_query(self, library):
        page = find(q="questions")
        assert counts(page, "theme") == {"customer-support": 1, "onboarding": 1}
        labels = {value.value: value.label for value in page.facets["theme"]}
        assert labels["customer-support"] == "Customer support"

    def test_sort_by_newest_and_most_helpful(self, library):
        newest = titles(find(sort="newest"))
        assert newest[0] == "Voice note from the warehouse floor"
        assert newest[-1] == "Customer questions answered the same day"
        assert titles(find(sort="helpful"))[:3] == [
            "An onboarding buddy for every new starter",
            "A nightly data pipeline replaced the spreadsheet",
            "Customer questions answered the same day",
        ]

    def test_the_language_heard_in_a_clip_is_a_filter_and_a_facet(self, library):
        clip = make_clip()
        Clip.objects.filter(pk=clip.pk).update(language="de")
        StoryPage.objects.filter(pk=library["pipeline"].pk).update(clip=clip)
        enqueue_stories([library["pipeline"].pk], "clip heard")
        apply_pending_updates(wait=True)

        german = find(language="de")
        assert titles(german) == ["A nightly data pipeline replaced the spreadsheet"]
        assert german.total == 1
        assert counts(german, "language") == {"de": 1, "en": 3}  # counted without its own filter
        assert counts(find(q="spreadsheet"), "language") == {"de": 1}
        assert find(language="xx").total == 0

    def test_equally_helpful_stories_come_newest_first_as_in_the_database(self, index_now):
        stories = [
            StoryPageFactory(title=title, helpful_count=helpful)
            for title, helpful in (("Older, five votes", 5), ("Seven votes", 7), ("Newer, five votes", 5))
        ]
        index_now()
        for story in (stories[0], stories[2]):  # edited since: indexed again, the newer one last
            story.aha = f"{story.aha} (edited)"
            story.save_revision().publish()
            index_now()
        expected = ["Seven votes", "Newer, five votes", "Older, five votes"]
        assert titles(find(sort="helpful")) == expected
        in_the_database = StoryPage.objects.live().order_by(*DATABASE_ORDER["helpful"])
        assert [story.title for story in in_the_database] == expected

    def test_pages_split_results_without_changing_the_total(self, library):
        first, second = find(sort="newest", per_page=2), find(sort="newest", per_page=2, page="2")
        third = find(sort="newest", per_page=2, page="3")
        assert first.total == second.total == third.total == 4
        assert len(titles(first)) == len(titles(second)) == 2 and len(titles(third)) == 0
        assert not set(titles(first)) & set(titles(second))

    def test_matches_are_highlighted(self, library):
        page = find(q="joins")
        highlights = page.results[0].hit.highlights
        assert highlights["aha"] == "The warehouse could do the <mark>joins</mark> for us."

    def test_transcript_matches_give_the_time_of_each_segment(self, library):
        page = find(q="scanner")
        assert titles(page) == ["Voice note from the warehouse floor"]
        hits = page.results[0].hit.transcript_hits
        assert [hit.start for hit in hits] == [83.2, 120.0]
        assert hits[0].highlighted == "The <mark>scanner</mark> kept failing on damp labels."

    def test_a_ranking_only_search_ranks_alike_and_keeps_transcript_moments(self, library):
        full = find(q="scanner labels warehouse", per_page=30)
        lean = search_stories(
            SearchQuery(text="scanner labels warehouse", per_page=30, ranking_only=True), ANONYMOUS
        )
        assert titles(lean) == titles(full) and titles(lean)
        assert lean.facets == {}
        assert lean.total == len(lean.results)
        moments = {
            result.story.title: [hit.start for hit in result.hit.transcript_hits] for result in lean.results
        }
        assert moments["Voice note from the warehouse floor"] == [83.2, 120.0]

    def test_highlighting_only_the_first_hits_changes_nothing_else(self, library):
        """Who knows reads a page's longer ranking for its people and moments, not its highlights."""
        text = "warehouse joins scanner"
        full = find(q=text, per_page=30)
        first_only = search_stories(SearchQuery(text=text, per_page=30, highlighted=1), ANONYMOUS)
        none = search_stories(SearchQuery(text=text, per_page=30, highlighted=0), ANONYMOUS)
        assert len(titles(full)) > 1
        assert titles(first_only) == titles(none) == titles(full)
        assert (first_only.total, first_only.facets) == (none.total, none.facets) == (full.total, full.facets)
        assert first_only.results[0].hit.highlights == full.results[0].hit.highlights
        moments = [[hit.start for hit in result.hit.transcript_hits] for result in full.results]
        assert [83.2, 120.0] in moments
        assert [[hit.start for hit in result.hit.transcript_hits] for result in none.results] == moments

    def test_autocomplete_suggests_titles_and_people_from_a_prefix(self, library):
        labels = [entry.label for entry in suggest("onboard", ANONYMOUS)]
        assert labels == ["An onboarding buddy for every new starter"]
        people = [entry for entry in suggest("grac", ANONYMOUS) if entry.kind == "person"]
        assert [entry.label for entry in people] == ["Grace Hopper"]
        assert people[0].url == "/search/?person=grace-hopper"

    def test_staff_only_story_hidden_from_anonymous_search(self, library):
        page = find(q="pricing")
        assert page.total == 0 and titles(page) == []
        everything = find()
        assert everything.total == 4
        assert "hedy-lamarr" not in counts(everything, "person")
        assert "2022" not in counts(everything, "year")
        assert counts(everything, "theme")["customer-support"] == 2
        assert suggest("staff", ANONYMOUS) == []
        assert suggest("hedy", ANONYMOUS) == []

    def test_staff_only_story_found_by_signed_in_staff(self, library):
        staff = UserFactory()
        page = find(staff, q="pricing")
        assert titles(page) == ["Staff-only pricing experiment"]
        everything = find(staff)
        assert everything.total == 5
        assert counts(everything, "theme")["customer-support"] == 3
        assert [entry.label for entry in suggest("hedy", staff)] == ["Hedy Lamarr"]

    def test_drafts_are_never_found(self, library):
        staff = UserFactory()
        assert find(staff, q="draft").total == 0
        assert "Draft about customer pricing" not in titles(find(staff, per_page=50))

    def test_related_stories_share_themes_and_respect_visibility(self, library):
        related = related_stories(library["inbox"], ANONYMOUS, limit=3)
        assert related and related[0] == library["pipeline"].pk
        assert library["secret"].pk not in related and library["inbox"].pk not in related
        assert library["secret"].pk in related_stories(library["inbox"], UserFactory(), limit=5)

    def test_related_stories_come_from_the_index_without_rebuilding_the_story(self, library):
        with CaptureQueriesContext(connection) as queries:
            related = related_stories(library["inbox"], ANONYMOUS, limit=3)
        assert related[0] == library["pipeline"].pk
        assert len(queries) == 0

    def test_a_story_missing_from_the_index_has_no_related_stories_there(self, search_backend, library):
        assert search_backend.related(10_000_000, include_staff=True, limit=3) == []

    def test_story_pages_get_related_stories_from_the_index(self, index_now, client):
        rota = StoryPageFactory(
            title="Lighthouse keepers share one rota",
            aha="The lighthouse rota lived on paper in the hallway.",
            outcome="Keepers swap lighthouse shifts without phoning round.",
        )
        StoryPageFactory(
            title="Budget review",
            context="Figures were checked by hand.",
            aha="Spreadsheets reconciled monthly.",
            outcome="Fewer errors.",
        )
        StoryPageFactory(
            title="A lighthouse rota anyone can change",
            aha="A shared calendar replaced the paper rota.",
            outcome="Lighthouse shifts are swapped in minutes.",
        )
        index_now()
        related_section = client.get(rota.url).content.decode().split('id="related-heading"')[1]
        assert card_titles(related_section) == ["A lighthouse rota anyone can change"]
        assert stories_sharing_a_theme(rota, ANONYMOUS, limit=1) == []  # not the fallback

    def test_related_stories_fall_back_to_a_shared_theme_while_there_is_no_index(self, search_backend):
        meetings = ThemeFactory(name="Meetings")
        older = StoryPageFactory(title="Older stand-up", themes=[meetings])
        newer = StoryPageFactory(title="Newer stand-up", themes=[meetings])
        StoryPageFactory(title="Unrelated", themes=[ThemeFactory(name="Tooling")])
        story = StoryPageFactory(title="Retro", themes=[meetings])
        assert not search_backend.exists()
        assert related_story_ids(story, ANONYMOUS, limit=3) == [newer.pk, older.pk]

    def test_a_story_not_indexed_yet_gets_stories_sharing_a_theme(self, index_now):
        meetings = ThemeFactory(name="Meetings")
        older = StoryPageFactory(title="Older stand-up", themes=[meetings])
        newer = StoryPageFactory(title="Newer stand-up", themes=[meetings])
        index_now()
        story = StoryPageFactory(title="Retro", themes=[meetings])  # its index update is still queued
        assert related_stories(story, ANONYMOUS, limit=3) == []
        assert related_story_ids(story, ANONYMOUS, limit=3) == [newer.pk, older.pk]

    # -- keeping the index in step with the database -----------------------------------------------

    def test_published_story_is_found_once_the_queue_is_applied(self, built_index):
        StoryPageFactory(title="Pairing with support on Fridays")
        assert PendingIndexUpdate.objects.filter(reason="published").count() == 1
        assert found("pairing") == []
        apply_pending_updates()
        assert found("pairing") == ["Pairing with support on Fridays"]
        assert PendingIndexUpdate.objects.count() == 0

    def test_first_update_builds_the_missing_index(self, search_backend):
        StoryPageFactory(title="Story published before any index existed")
        assert not get_backend().exists()
        assert found("index") == []  # no index yet: an empty page, not an error
        apply_pending_updates()
        assert found("index") == ["Story published before any index existed"]

    def test_nothing_to_do_costs_one_query(self, built_index):
        with CaptureQueriesContext(connection) as queries:
            assert apply_pending_updates() == 0
        assert len(queries) == 1

    def test_unpublished_story_disappears(self, built_index):
        story = StoryPageFactory(title="Short-lived story about pagers")
        apply_pending_updates()
        story.unpublish()
        apply_pending_updates()
        assert found("pagers") == []
        assert get_backend().count() == 1

    def test_deleted_story_disappears(self, built_index):
        story = StoryPageFactory(title="Deleted story about pagers")
        apply_pending_updates()
        story.delete()
        apply_pending_updates()
        assert found("pagers") == []

    def test_visibility_change_reaches_the_index(self, built_index):
        story = StoryPageFactory(title="Budget planning tricks")
        apply_pending_updates()
        story.visibility = Visibility.STAFF
        story.save_revision().publish()
        apply_pending_updates()
        assert found("budget") == []
        assert found("budget", user=UserFactory()) == ["Budget planning tricks"]

    def test_renamed_theme_reindexes_its_stories(self, built_index):
        theme = ThemeFactory(name="Hiring")
        StoryPageFactory(title="Structured interviews", themes=[theme])
        apply_pending_updates()
        theme.name = "Recruitment"
        theme.save()
        assert PendingIndexUpdate.objects.filter(reason="theme changed").count() == 1
        apply_pending_updates()
        assert found("recruitment") == ["Structured interviews"]
        assert found("hiring") == []

    def test_renamed_person_reindexes_the_stories_they_are_in(self, built_index):
        person = PersonFactory(name="Margaret Hamilton")
        StoryPageFactory(title="Guarding against the unexpected", people=[person])
        apply_pending_updates()
        person.name = "Margaret H. Hamilton-Smith"
        person.save()
        apply_pending_updates()
        assert found("smith") == ["Guarding against the unexpected"]

    def test_moved_story_is_reindexed(self, built_index):
        story = StoryPageFactory(title="Moving the weekly demo")
        apply_pending_updates()
        library = story.get_parent()
        story.move(library, pos="first-child")
        assert PendingIndexUpdate.objects.filter(story_id=story.pk, reason="moved").exists()
        apply_pending_updates()
        assert found("demo") == ["Moving the weekly demo"]

    def test_per_story_updates_are_still_queued_in_bulk_import_mode(self, built_index):
        with bulk_import_mode():
            story = StoryPageFactory(title="Published during an import")
        assert PendingIndexUpdate.objects.filter(story_id=story.pk, reason="published").exists()
        apply_pending_updates()
        assert found("import") == ["Published during an import"]

    def test_verify_reports_and_fixes_missing_stale_and_extra(self, built_index):
        kept = StoryPageFactory(title="Kept in step")
        stale = StoryPageFactory(title="Changed behind the index's back")
        missing = StoryPageFactory(title="Never reached the index")
        extra = StoryPageFactory(title="Unpublished behind the index's back")
        apply_pending_updates()
        get_backend().update(delete_ids=[missing.pk])
        StoryPage.objects.filter(pk=stale.pk).update(aha="A new aha written by a raw SQL update.")
        StoryPage.objects.filter(pk=extra.pk).update(live=False)

        drift = find_drift()
        assert (drift.missing, drift.stale, drift.extra) == ([missing.pk], [stale.pk], [extra.pk])
        output = StringIO()
        with pytest.raises(SystemExit):
            call_command("search_index", "verify", stdout=output)
        assert "Missing  1" in output.getvalue() and "Stale    1" in output.getvalue()

        output = StringIO()
        call_command("search_index", "verify", "--fix", stdout=output)
        assert "the index matches the database" in output.getvalue()
        assert find_drift().clean
        assert found("raw sql") == ["Changed behind the index's back"]
        assert found("reached") == ["Never reached the index"]
        assert kept.pk in get_backend().document_fingerprints()

    def test_rebuild_swaps_in_a_new_index_and_reports_progress(self, built_index):
        for number in range(3):
            StoryPageFactory(title=f"Story number {number} about rotas")
        old_build = self.live_build(built_index)
        output = StringIO()
        call_command("search_index", "rebuild", stdout=output)
        assert "Indexed 4 stories" in output.getvalue()
        assert self.live_build(built_index) != old_build
        assert not self.build_exists(built_index, old_build)
        assert len(found("rotas")) == 3
        assert PendingIndexUpdate.objects.count() == 0

    def test_update_command_builds_then_reports_up_to_date(self, search_backend):
        StoryPageFactory(title="Ready for the first run")
        output = StringIO()
        call_command("search_index", "update", stdout=output)
        assert "Built the search index: 1 stories." in output.getvalue()
        output = StringIO()
        call_command("search_index", "update", stdout=output)
        assert "Search index is up to date." in output.getvalue()

    def test_status_command_shows_backend_documents_and_queue(self, built_index):
        StoryPageFactory(title="Waiting in the queue")
        output = StringIO()
        call_command("search_index", "status", stdout=output)
        text = output.getvalue()
        assert f"Backend:          {built_index.name}" in text
        assert "Documents:        1" in text
        assert "Pending updates:  1" in text

    def test_a_reader_sees_commits_and_rebuilds_made_by_another_process(self, built_index):
        reader = type(built_index).from_settings()  # as another web process would hold it
        assert reader.count() == 1
        StoryPageFactory(title="Second")
        apply_pending_updates()
        assert reader.count() == 2
        call_command("search_index", "rebuild", stdout=StringIO())
        assert reader.count() == 2
