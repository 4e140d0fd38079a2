"""Elasticsearch against a live cluster: the backend contract, plus versioned indices behind the alias.

Runs when ELASTICSEARCH_URL is set (each test on a throwaway alias, dropped afterwards); skipped
here otherwise, saying so.
"""

from __future__ import annotations

import os
import uuid

import pytest

from search.backends import ELASTICSEARCH
from search.backends.elasticsearch import ElasticsearchBackend
from search.sync import apply_pending_updates, find_drift, rebuild_index
from tests.factories import StoryPageFactory
from tests.search.backend_contract import BackendContract

LIVE_URL = os.environ.get("ELASTICSEARCH_URL", "")


@pytest.mark.elasticsearch_live
class TestElasticsearchBackend(BackendContract):
    backend_class = ELASTICSEARCH

    def configure(self, settings) -> None:
        if not LIVE_URL:
            pytest.skip(
                "ELASTICSEARCH_URL is not set: no live Elasticsearch to run the backend contract against"
            )
        settings.ELASTICSEARCH_URL = LIVE_URL
        settings.ELASTICSEARCH_INDEX = f"storybank-test-{uuid.uuid4().hex[:10]}"

    def live_build(self, backend: ElasticsearchBackend) -> str:
        (build,) = backend.client.indices.get_alias(name=backend.alias).body
        return build

    def build_exists(self, backend: ElasticsearchBackend, build: str) -> bool:
        return bool(backend.client.indices.exists(index=build))

    # -- only Elasticsearch ------------------------------------------------------------------------

    def test_rebuild_moves_the_alias_to_a_new_versioned_index(self, search_backend):
        StoryPageFactory(title="Versioned indices")
        apply_pending_updates(wait=True)
        first = set(search_backend.client.indices.get_alias(name=search_backend.alias).body)
        rebuild_index()
        second = set(search_backend.client.indices.get_alias(name=search_backend.alias).body)
        assert len(first) == len(second) == 1 and first != second
        assert all(name.startswith(f"{search_backend.alias}-v") for name in second)
        assert not search_backend.client.indices.exists(index=list(first)[0])
        assert search_backend.count() == 1 and find_drift().clean
