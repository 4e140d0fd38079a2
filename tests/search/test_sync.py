"""Keeping the index right: the durable queue, outages, editors' changes, rebuild and verify."""

from __future__ import annotations

from io import StringIO

import pytest
import tantivy
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from search.backends.embedded import EmbeddedBackend
from search.models import PendingIndexUpdate
from search.query import SearchQuery
from search.service import get_backend, search_stories
from search.sync import apply_pending_updates, find_drift
from stories.models import StoryPage, Visibility
from tests.factories import PersonFactory, ThemeFactory, UserFactory, make_story

pytestmark = pytest.mark.django_db


def found(text: str = "", user=None, **filters) -> list[str]:
    params = {"q": text, **filters}
    page = search_stories(SearchQuery.from_params(params), user or AnonymousUser())
    return [result.story.title for result in page.results]


@pytest.fixture
def index_writer_held_elsewhere(built_index):
    """Another process is writing the index: tantivy's writer lock on the live build is taken."""
    live_build = built_index.root / built_index._current_target()
    holder = tantivy.Index.open(str(live_build))
    writer = holder.writer(heap_size=15_000_000, num_threads=1)
    yield
    writer.rollback()
    writer.wait_merging_threads()


def test_published_story_is_found_once_the_queue_is_applied(built_index):
    make_story(title="Pairing with support on Fridays")
    assert PendingIndexUpdate.objects.filter(reason="published").count() == 1
    assert found("pairing") == []
    apply_pending_updates()
    assert found("pairing") == ["Pairing with support on Fridays"]
    assert PendingIndexUpdate.objects.count() == 0


def test_publish_succeeds_while_the_index_is_locked_and_catches_up_later(
    built_index, index_writer_held_elsewhere
):
    story = make_story(title="Retrospectives with real data")
    assert StoryPage.objects.get(pk=story.pk).live
    assert apply_pending_updates() == 0
    row = PendingIndexUpdate.objects.get(story_id=story.pk)
    assert row.attempts == 1 and "writing the search index" in row.last_error
    assert found("retrospectives") == []


def test_queued_updates_apply_after_the_lock_is_released(built_index):
    live_build = built_index.root / built_index._current_target()
    holder = tantivy.Index.open(str(live_build))
    writer = holder.writer(heap_size=15_000_000, num_threads=1)
    make_story(title="Retrospectives with real data")
    assert apply_pending_updates() == 0
    writer.rollback()
    writer.wait_merging_threads()
    assert apply_pending_updates() == 1
    assert found("retrospectives") == ["Retrospectives with real data"]


def test_first_update_builds_the_missing_index(settings):
    settings.ELASTICSEARCH_URL = None
    make_story(title="Story published before any index existed")
    assert not get_backend().exists()
    assert found("index") == []  # no index yet: an empty page, not an error
    apply_pending_updates()
    assert found("index") == ["Story published before any index existed"]


def test_nothing_to_do_costs_one_query(built_index):
    with CaptureQueriesContext(connection) as queries:
        assert apply_pending_updates() == 0
    assert len(queries) == 1


def test_unpublished_story_disappears(built_index):
    story = make_story(title="Short-lived story about pagers")
    apply_pending_updates()
    story.unpublish()
    apply_pending_updates()
    assert found("pagers") == []
    assert get_backend().count() == 1


def test_deleted_story_disappears(built_index):
    story = make_story(title="Deleted story about pagers")
    apply_pending_updates()
    story.delete()
    apply_pending_updates()
    assert found("pagers") == []


def test_visibility_change_reaches_the_index(built_index):
    story = make_story(title="Budget planning tricks")
    apply_pending_updates()
    story.visibility = Visibility.STAFF
    story.save_revision().publish()
    apply_pending_updates()
    assert found("budget") == []
    assert found("budget", user=UserFactory()) == ["Budget planning tricks"]


def test_renamed_theme_reindexes_its_stories(built_index):
    theme = ThemeFactory(name="Hiring")
    make_story(title="Structured interviews", themes=[theme])
    apply_pending_updates()
    theme.name = "Recruitment"
    theme.save()
    assert PendingIndexUpdate.objects.filter(reason="theme changed").count() == 1
    apply_pending_updates()
    assert found("recruitment") == ["Structured interviews"]
    assert found("hiring") == []


def test_renamed_person_reindexes_the_stories_they_are_in(built_index):
    person = PersonFactory(name="Margaret Hamilton")
    make_story(title="Guarding against the unexpected", people=[person])
    apply_pending_updates()
    person.name = "Margaret H. Hamilton-Smith"
    person.save()
    apply_pending_updates()
    assert found("smith") == ["Guarding against the unexpected"]


def test_moved_story_is_reindexed(built_index):
    story = make_story(title="Moving the weekly demo")
    apply_pending_updates()
    library = story.get_parent()
    story.move(library, pos="first-child")
    assert PendingIndexUpdate.objects.filter(story_id=story.pk, reason="moved").exists()
    apply_pending_updates()
    assert found("demo") == ["Moving the weekly demo"]


def test_per_story_updates_are_still_queued_in_bulk_import_mode(built_index):
    from stories.importing import bulk_import_mode

    with bulk_import_mode():
        story = make_story(title="Published during an import")
    assert PendingIndexUpdate.objects.filter(story_id=story.pk, reason="published").exists()
    apply_pending_updates()
    assert found("import") == ["Published during an import"]


def test_verify_reports_and_fixes_missing_stale_and_extra(built_index):
    kept = make_story(title="Kept in step")
    stale = make_story(title="Changed behind the index's back")
    missing = make_story(title="Never reached the index")
    extra = make_story(title="Unpublished behind the index's back")
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


def test_rebuild_swaps_in_a_new_index_and_reports_progress(built_index):
    for number in range(3):
        make_story(title=f"Story number {number} about rotas")
    old_build = built_index._current_target()
    output = StringIO()
    call_command("search_index", "rebuild", stdout=output)
    assert "Indexed 4 stories" in output.getvalue()
    assert built_index._current_target() != old_build
    assert not (built_index.root / old_build).exists()
    assert len(found("rotas")) == 3
    assert PendingIndexUpdate.objects.count() == 0


def test_update_command_builds_then_reports_up_to_date(settings):
    settings.ELASTICSEARCH_URL = None
    make_story(title="Ready for the first run")
    output = StringIO()
    call_command("search_index", "update", stdout=output)
    assert "Built the search index: 1 stories." in output.getvalue()
    output = StringIO()
    call_command("search_index", "update", stdout=output)
    assert "Search index is up to date." in output.getvalue()


def test_status_command_shows_backend_documents_and_queue(built_index):
    make_story(title="Waiting in the queue")
    output = StringIO()
    call_command("search_index", "status", stdout=output)
    text = output.getvalue()
    assert "Backend:          embedded" in text
    assert "Documents:        1" in text
    assert "Pending updates:  1" in text


def test_a_reader_sees_commits_and_rebuilds_made_by_another_process(built_index):
    reader = EmbeddedBackend(built_index.root)  # as a web process would hold it
    assert reader.count() == 1
    make_story(title="Second")
    apply_pending_updates()
    assert reader.count() == 2
    call_command("search_index", "rebuild", stdout=StringIO())
    assert reader.count() == 2


def test_document_carries_the_story_page_url_body_and_transcript(built_index):
    from search.documents import story_document
    from stories.models import TranscriptSegment

    story = make_story(title="Documented", publish=False)
    story.body = [
        ("paragraph", "<p>Rich <b>text</b> &amp; more</p>"),
        ("quote", {"quote": "Ask early", "attribution": "Ada"}),
    ]
    story.transcript_segments = [TranscriptSegment(start=1.5, end=3.0, text="hello there")]
    story.save_revision().publish()
    story.refresh_from_db()
    document = story_document(story)
    assert document["url"] == story.url
    assert document["body"] == "Rich text & more Ask early Ada"
    assert document["transcript"] == [{"start": 1.5, "end": 3.0, "text": "hello there"}]


def test_index_from_an_older_schema_is_not_read_and_update_rebuilds_it(built_index):
    from search.backends.embedded import SCHEMA_FILE

    schema_file = built_index.root / built_index._current_target() / SCHEMA_FILE
    schema_file.write_text('{"schema_version": 0}')
    reader = EmbeddedBackend(built_index.root)  # a web process started after the upgrade
    assert "older version" in reader.health()["error"]
    page = search_stories(SearchQuery.from_params({"q": "kanban"}), AnonymousUser())
    assert page.unavailable or page.total == 1
    output = StringIO()
    call_command("search_index", "update", stdout=output)
    assert "Built the search index: 1 stories." in output.getvalue()
    assert reader.count() == 1 and found("kanban") == ["Existing story about kanban boards"]
    assert reader.health()["ok"] is True
