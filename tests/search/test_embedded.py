"""The embedded tantivy index: the backend contract, plus what only a file-based index has
(tantivy's writer lock, the schema file beside each build)."""

from __future__ import annotations

from io import StringIO

import pytest
import tantivy
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command

from search.backends import EMBEDDED, forget_backends
from search.backends.embedded import SCHEMA_FILE, EmbeddedBackend
from search.models import PendingIndexUpdate
from search.query import SearchQuery
from search.service import search_stories
from search.sync import apply_pending_updates
from stories.models import StoryPage
from tests.factories import StoryPageFactory
from tests.search.backend_contract import BackendContract, found


class TestEmbeddedBackend(BackendContract):
    backend_class = EMBEDDED

    def live_build(self, backend: EmbeddedBackend) -> str:
        return backend._current_target()

    def build_exists(self, backend: EmbeddedBackend, build: str) -> bool:
        return (backend.root / build).exists()

    # -- only a file-based index -------------------------------------------------------------------

    @pytest.fixture
    def index_writer_held_elsewhere(self, built_index):
        """Another process is writing the index: tantivy's writer lock on the live build is taken."""
        live_build = built_index.root / built_index._current_target()
        holder = tantivy.Index.open(str(live_build))
        writer = holder.writer(heap_size=15_000_000, num_threads=1)
        yield
        writer.rollback()
        writer.wait_merging_threads()

    def test_publish_succeeds_while_the_index_is_locked_and_catches_up_later(
        self, built_index, index_writer_held_elsewhere
    ):
        story = StoryPageFactory(title="Retrospectives with real data")
        assert StoryPage.objects.get(pk=story.pk).live
        assert apply_pending_updates() == 0
        row = PendingIndexUpdate.objects.get(story_id=story.pk)
        assert row.attempts == 1 and "writing the search index" in row.last_error
        assert found("retrospectives") == []

    def test_queued_updates_apply_after_the_lock_is_released(self, built_index):
        live_build = built_index.root / built_index._current_target()
        holder = tantivy.Index.open(str(live_build))
        writer = holder.writer(heap_size=15_000_000, num_threads=1)
        StoryPageFactory(title="Retrospectives with real data")
        assert apply_pending_updates() == 0
        writer.rollback()
        writer.wait_merging_threads()
        assert apply_pending_updates() == 1
        assert found("retrospectives") == ["Retrospectives with real data"]

    def test_index_from_an_older_schema_is_not_read_and_update_rebuilds_it(self, built_index):
        schema_file = built_index.root / built_index._current_target() / SCHEMA_FILE
        schema_file.write_text('{"schema_version": 0}')
        reader = EmbeddedBackend(built_index.root)  # a web process started after the upgrade
        assert "older version" in reader.health()["error"]
        forget_backends()  # this process too starts after the upgrade
        page = search_stories(SearchQuery.from_params({"q": "kanban"}), AnonymousUser())
        assert page.unavailable and page.total == 0 and page.results == []
        output = StringIO()
        call_command("search_index", "update", stdout=output)
        assert "Built the search index: 1 stories." in output.getvalue()
        assert reader.count() == 1 and found("kanban") == ["Existing story about kanban boards"]
        assert reader.health()["ok"] is True
