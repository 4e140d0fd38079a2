"""The behaviour every search backend must show, written once (Wagtail's BackendTests pattern).

`BackendContract` is subclassed once per backend (tests/search/test_embedded.py,
tests/search/test_elasticsearch_live.py); each subclass names its backend class, points the
settings at a throwaway index, and skips where its engine cannot run. Searching, filtering,
facets, autocomplete, related stories, and keeping the index in step with the database (the
queue, rebuild and verify) are all part of the contract.
"""

from __future__ import annotations

import datetime
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
from search.service import get_backend, search_stories, suggest
from search.sync import apply_pending_updates, find_drift
from stories.importing import bulk_import_mode
from stories.models import StoryPage, TranscriptSegment, Visibility
from stories.related import related_stories as related_on_story_pages
from stories.related import stories_sharing_a_theme
from tests.factories import OutcomeTypeFactory, PersonFactory, StoryPageFactory, ThemeFactory, UserFactory

ANONYMOUS = AnonymousUser()


def publish_with_transcript(title: str, segments: list[tuple[float, float, str]], **fields):
    story = StoryPageFactory(title=title, publish=False, source="voice", **fields)
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

    def test_every_word_must_match_somewhere(self, library):
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
        assert related and related[0].title == "A nightly data pipeline replaced the spreadsheet"
        assert library["secret"] not in related and library["inbox"] not in related
        assert library["secret"] in related_stories(library["inbox"], UserFactory(), limit=5)

    def test_story_pages_get_related_stories_from_the_index(self, index_now):
        rota = StoryPageFactory(
            title="Lighthouse keepers share one rota",
            aha="The lighthouse rota lived on paper in the hallway.",
            outcome="Keepers swap lighthouse shifts without phoning round.",
        )
        StoryPageFactory(
            title="Budget review", aha="Spreadsheets reconciled monthly.", outcome="Fewer errors."
        )
        StoryPageFactory(
            title="A lighthouse rota anyone can change",
            aha="A shared calendar replaced the paper rota.",
            outcome="Lighthouse shifts are swapped in minutes.",
        )
        index_now()
        shown = related_on_story_pages(rota, ANONYMOUS, limit=1)
        assert [story.title for story in shown] == ["A lighthouse rota anyone can change"]
        assert stories_sharing_a_theme(rota, ANONYMOUS, limit=1) == []  # not the fallback

    def test_related_stories_fall_back_to_a_shared_theme_while_there_is_no_index(self, search_backend):
        meetings = ThemeFactory(name="Meetings")
        older = StoryPageFactory(title="Older stand-up", themes=[meetings])
        newer = StoryPageFactory(title="Newer stand-up", themes=[meetings])
        StoryPageFactory(title="Unrelated", themes=[ThemeFactory(name="Tooling")])
        story = StoryPageFactory(title="Retro", themes=[meetings])
        assert not search_backend.exists()
        assert related_on_story_pages(story, ANONYMOUS, limit=3) == [newer, older]

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
