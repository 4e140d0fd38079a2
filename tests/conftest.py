"""Shared fixtures: every test gets its own media folder and search-index folder."""

import pytest


@pytest.fixture(autouse=True)
def isolated_storage(settings, tmp_path):
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()  # Wagtail caches renditions, whose files live in the previous test's folder
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    settings.SEARCH_INDEX_DIR = tmp_path / "search-index"
    return tmp_path


@pytest.fixture
def built_index(settings):
    """The embedded search index, built, holding one published story."""
    from search.service import get_backend
    from search.sync import apply_pending_updates
    from tests.factories import make_story

    settings.ELASTICSEARCH_URL = None
    make_story(title="Existing story about kanban boards")
    apply_pending_updates()
    assert get_backend().exists()
    return get_backend()
