"""Fixtures every test folder shares: isolated storage, a built search index, the share form's people
and review workflow, and (from tests/browser_harness.py) the browser harness.

Fixtures one folder alone uses live in that folder's conftest.py.
"""

import os

import pytest
from django.contrib.auth.models import Group
from django.core.cache import caches
from wagtail.models import GroupApprovalTask, Workflow, WorkflowPage, WorkflowTask

from search.embeddings import embedder
from search.service import get_backend
from search.sync import apply_pending_updates
from stories.workflow import EDITORIAL_REVIEW
from tests.factories import StoryPageFactory, UserFactory, library

pytest_plugins = ["tests.browser_harness"]

# Meaning search loads a model (seconds per process): off for every test and every process a test
# starts, unless the test asks for it (the `meaning_search` fixture).
os.environ.setdefault("EMBEDDING_MODEL", "off")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items):
    """Tests against the live Storybank (its own SQLite file, like `make run`) are `own_sqlite`."""
    for item in items:
        if "live_storybank" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.own_sqlite)


@pytest.fixture(autouse=True)
def isolated_storage(settings, tmp_path):
    """Every test gets its own media folder and search-index folder."""
    for cache in caches.all():
        cache.clear()  # Wagtail caches renditions, whose files live in the previous test's folder
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    settings.SEARCH_INDEX_DIR = tmp_path / "search-index"
    return tmp_path


@pytest.fixture(autouse=True)
def quick_password_hashing(settings):
    """Django's PBKDF2 costs about 0.3 s a password here, and most tests make several users; the
    processes a test starts (the live Storybank, `manage.py` commands) keep the real hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def words_only(settings):
    settings.EMBEDDING_MODEL = os.environ["EMBEDDING_MODEL"]


@pytest.fixture
def meaning_search(settings):
    """Meaning search on, with the bundled model (loaded once per test session, then kept)."""
    settings.EMBEDDING_MODEL = ""
    embedder.load()
    return embedder


@pytest.fixture
def built_index(settings):
    """The embedded search index, built, holding one published story."""
    settings.ELASTICSEARCH_URL = None
    StoryPageFactory(title="Existing story about kanban boards")
    apply_pending_updates()
    assert get_backend().exists()
    return get_backend()


@pytest.fixture
def editorial_review(db) -> Workflow:
    """The "Editorial review" workflow: the migration's when present, else built the same way here."""
    workflow = Workflow.objects.filter(name=EDITORIAL_REVIEW, active=True).first()
    if workflow is None:
        editors, _ = Group.objects.get_or_create(name="Editors")
        task = GroupApprovalTask.objects.create(name="Editor approval")
        task.groups.set([editors])
        workflow = Workflow.objects.create(name=EDITORIAL_REVIEW, active=True)
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
        WorkflowPage.objects.create(workflow=workflow, page=library())
    return workflow


@pytest.fixture
def teller(db):
    """Someone who shares a story through the form."""
    return UserFactory(first_name="Ana", last_name="Lima")


@pytest.fixture
def teller_client(client, teller, editorial_review):
    client.force_login(teller)
    return client


@pytest.fixture
def editor(db):
    return UserFactory(username="editor", is_staff=True, is_superuser=True, groups=["Editors"])
