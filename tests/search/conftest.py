"""Search fixtures: a backend per test (embedded always, Elasticsearch when ELASTICSEARCH_URL is set)."""

from __future__ import annotations

import os
import uuid

import pytest

from search import service
from search.sync import apply_pending_updates

LIVE_URL = os.environ.get("ELASTICSEARCH_URL", "")


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("elasticsearch", marks=pytest.mark.elasticsearch_live),
    ]
)
def search_backend(request, settings):
    """Point the settings at one backend; the Elasticsearch run gets its own alias, dropped afterwards."""
    if request.param == "embedded":
        settings.ELASTICSEARCH_URL = None
        yield service.get_backend()
        return
    if not LIVE_URL:
        pytest.skip("ELASTICSEARCH_URL is not set: no live Elasticsearch to run the shared suite against")
    settings.ELASTICSEARCH_URL = LIVE_URL
    settings.ELASTICSEARCH_INDEX = f"storybank-test-{uuid.uuid4().hex[:10]}"
    backend = service.get_backend()
    yield backend
    backend.drop_everything()


@pytest.fixture
def index_now(search_backend):
    """Apply the queued index updates the way the worker does, and return the backend."""

    def apply():
        apply_pending_updates(wait=True)
        return search_backend

    return apply
