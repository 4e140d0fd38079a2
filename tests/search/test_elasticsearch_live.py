"""Elasticsearch-only behaviour against a live cluster: versioned indices behind the alias.

Runs when ELASTICSEARCH_URL is set; the shared behaviour suite (test_behaviour.py) also runs
against the same cluster then.
"""

from __future__ import annotations

import os
import uuid

import pytest

from search import service
from search.sync import apply_pending_updates, find_drift, rebuild_index
from tests.factories import make_story

pytestmark = [pytest.mark.django_db, pytest.mark.elasticsearch_live]


@pytest.fixture
def live_backend(settings):
    url = os.environ.get("ELASTICSEARCH_URL")
    if not url:
        pytest.skip("ELASTICSEARCH_URL is not set: no live Elasticsearch to test against")
    settings.ELASTICSEARCH_URL = url
    settings.ELASTICSEARCH_INDEX = f"storybank-test-{uuid.uuid4().hex[:10]}"
    backend = service.get_backend()
    yield backend
    backend.drop_everything()


def test_rebuild_moves_the_alias_to_a_new_versioned_index(live_backend):
    make_story(title="Versioned indices")
    apply_pending_updates(wait=True)
    first = set(live_backend.client.indices.get_alias(name=live_backend.alias).body)
    rebuild_index()
    second = set(live_backend.client.indices.get_alias(name=live_backend.alias).body)
    assert len(first) == len(second) == 1 and first != second
    assert all(name.startswith(f"{live_backend.alias}-v") for name in second)
    assert not live_backend.client.indices.exists(index=list(first)[0])
    assert live_backend.count() == 1 and find_drift().clean
