"""Shared fixtures: every test gets its own media folder and search-index folder."""

import pytest


@pytest.fixture(autouse=True)
def isolated_storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    settings.SEARCH_INDEX_DIR = tmp_path / "search-index"
    return tmp_path
