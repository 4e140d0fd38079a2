"""The search index never silently loses a change, and the worker never stops beating.

- An index update that keeps failing is retried with a growing delay, then parked where editors
  and `search_index status` show it, and can be retried; it never keeps the worker busy.
- The heartbeat and the stale-transcription recovery keep running whatever another job does.
- Under `manage.py serve` (what `make run` starts), a worker killed with SIGKILL is restarted and
  the web server keeps serving.
- After an import, a bulk publish, a bulk theme approval or a bulk delete, the index of a running
  site catches up with no rebuild: `search_index verify` finds no drift.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from operations.models import WorkerHeartbeat
from operations.worker import Housekeeper
from search.models import PendingIndexUpdate
from search.query import SearchQuery
from search.service import search_stories
from search.sync import apply_pending_updates, enqueue_stories, find_drift
from stories.models import StoryPage, Theme
from tests.factories import (
    StoryPageFactory,
    ThemeFactory,
    UserFactory,
    library,
    make_editor,
    make_storyteller,
)
from tests.processes import free_port, manage, sqlite_row, start_worker, wait_for

LONG_AGO = timedelta(minutes=10)


def found(text: str) -> list[str]:
    page = search_stories(SearchQuery.from_params({"q": text}), AnonymousUser())
    return [result.story.title for result in page.results]


def store_body(story: StoryPage, raw_json: str) -> None:
    """Write the stored body behind the model's back, as a bad migration or a manual fix could."""
    value = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE stories_storypage SET body = {value} WHERE page_ptr_id = %s", [raw_json, story.pk]
        )


def poison(story: StoryPage) -> None:
    """Store a body no search document can be built from (valid JSON, but not a list of blocks)."""
    store_body(story, "[1]")


def cure(story: StoryPage) -> None:
    store_body(story, "[]")


def make_due(story: StoryPage) -> None:
    """Let the back-off pass, as time would."""
    waiting = PendingIndexUpdate.objects.filter(story_id=story.pk, next_attempt_at__isnull=False)
    waiting.update(next_attempt_at=timezone.now() - LONG_AGO)


# --- A failing update: back-off, parking, retry ----------------------------------------------


@pytest.mark.django_db
def test_failing_index_update_is_backed_off_instead_of_retried_at_once(built_index):
    broken = StoryPageFactory(title="Broken body")
    apply_pending_updates()
    poison(broken)
    enqueue_stories([broken.pk], "edited")
    StoryPageFactory(title="Healthy neighbour")

    applied = apply_pending_updates(max_batches=50)  # bounded, so a retry loop shows as a count

    assert applied == 1 and found("neighbour") == ["Healthy neighbour"]
    row = PendingIndexUpdate.objects.get(story_id=broken.pk)
    assert row.attempts == 1
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=20)
    assert "AttributeError" in row.last_error
    assert row.parked_at is None
    apply_pending_updates(max_batches=50)
    assert PendingIndexUpdate.objects.get(story_id=broken.pk).attempts == 1  # waits out its delay


@pytest.mark.django_db
def test_update_failing_too_often_is_parked_shown_and_retried(built_index, settings, client):
    settings.SEARCH_UPDATE_MAX_ATTEMPTS = 3
    broken = StoryPageFactory(title="Broken body")
    apply_pending_updates()
    poison(broken)
    enqueue_stories([broken.pk], "edited")

    delays = []
    for _ in range(5):
        make_due(broken)
        apply_pending_updates()
        row = PendingIndexUpdate.objects.get(story_id=broken.pk)
        if row.next_attempt_at:
            delays.append(row.next_attempt_at - timezone.now())
    row = PendingIndexUpdate.objects.get(story_id=broken.pk)
    assert row.attempts == 3 and row.parked_at is not None  # parked: later rounds left it alone
    assert len(delays) == 2 and delays[1] > delays[0]  # the delay grew between attempts

    status = StringIO()
    call_command("search_index", "status", stdout=status)
    assert "Parked updates:   1" in status.getvalue()
    assert f"story {broken.pk}: 3 attempts" in status.getvalue() and "AttributeError" in status.getvalue()

    queue_url = reverse("search_index_queue:index")
    client.force_login(make_storyteller())
    assert client.get(queue_url).status_code in (302, 403)
    client.force_login(make_editor())
    listing = client.get(queue_url, {"parked": "true"})
    assert listing.status_code == 200
    assert f"Story {broken.pk}" in listing.content.decode() and "AttributeError" in listing.content.decode()

    cure(broken)
    retried = StringIO()
    call_command("search_index", "retry", stdout=retried)
    assert "1 parked updates queued again" in retried.getvalue()
    apply_pending_updates()
    assert not PendingIndexUpdate.objects.exists()
    assert found("broken") == ["Broken body"] and find_drift().clean


@pytest.mark.django_db
def test_a_new_change_to_a_parked_story_still_gets_indexed(built_index, settings):
    settings.SEARCH_UPDATE_MAX_ATTEMPTS = 1
    story = StoryPageFactory(title="Once broken")
    apply_pending_updates()
    poison(story)
    enqueue_stories([story.pk], "edited")
    apply_pending_updates()
    assert PendingIndexUpdate.objects.get(story_id=story.pk).parked_at is not None

    cure(story)
    StoryPage.objects.get(pk=story.pk).save_revision().publish()  # an editor fixes and republishes it

    apply_pending_updates()
    assert not PendingIndexUpdate.objects.filter(story_id=story.pk).exists()  # the parked row went too
    assert find_drift().clean


@pytest.mark.django_db
def test_one_unreadable_story_never_stops_a_rebuild_and_stays_queued(built_index):
    broken = StoryPageFactory(title="Broken body")
    StoryPageFactory(title="Healthy neighbour")
    apply_pending_updates()
    poison(broken)

    output = StringIO()
    call_command("search_index", "rebuild", stdout=output)

    assert "Indexed 2 stories" in output.getvalue()
    assert found("neighbour") == ["Healthy neighbour"] and found("kanban")
    assert PendingIndexUpdate.objects.filter(story_id=broken.pk, reason="could not be indexed").exists()
    verify = StringIO()
    with pytest.raises(SystemExit):
        call_command("search_index", "verify", stdout=verify)
    assert f"Unreadable 1: {broken.pk}" in verify.getvalue()


# --- The worker's threads ----------------------------------------------------------------------


def _beats(worker_id: str):
    for _ in range(20):
        try:
            return (
                WorkerHeartbeat.objects.filter(worker_id=worker_id)
                .values_list("last_beat", flat=True)
                .first()
            )
        except OperationalError:  # the in-memory test database is shared between threads
            time.sleep(0.05)
    raise AssertionError("could not read the heartbeat")


blocked = threading.Event()


def never_finishing_job() -> None:
    """A housekeeping job that hangs (a stuck network call, say) until the test lets it go."""
    blocked.wait(30)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # like every transactional test here
def test_a_hanging_housekeeping_job_never_stops_the_heartbeat(settings):
    blocked.clear()
    housekeeper = Housekeeper(
        "hang-test",
        0.1,
        jobs=[f"{__name__}.never_finishing_job", "capture.recovery.requeue_stale_submissions"],
    )
    housekeeper.start()
    try:
        deadline = time.monotonic() + 10
        first = None
        while time.monotonic() < deadline and first is None:
            first = _beats("hang-test")
            time.sleep(0.05)
        time.sleep(0.6)
        assert _beats("hang-test") > first  # beating on while the other job hangs
    finally:
        blocked.set()
        housekeeper.stop()


# A real worker process against a real SQLite file, as `make run` runs it.


def _site_env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ELASTICSEARCH_", "DATABASE_URL"))}
    env.update(
        PYTHONUNBUFFERED="1",
        STORYBANK_VAR_DIR=str(tmp_path / "var"),
        MEDIA_ROOT=str(tmp_path / "media"),
        SEARCH_INDEX_DIR=str(tmp_path / "search-index"),
        WORKER_HEARTBEAT_SECONDS="1",
        WORKER_STALE_SECONDS="5",
        QUESTIONS_SMTP_LISTEN="",  # these tests are about the web server and the worker
    )
    return env


SETUP_POISONED_SITE = """
from django.db import connection
from search.sync import apply_pending_updates, enqueue_stories
from tests.factories import StoryPageFactory
story = StoryPageFactory(title="Broken body")
apply_pending_updates()
with connection.cursor() as cursor:
    cursor.execute("UPDATE stories_storypage SET body = '[1]' WHERE page_ptr_id = %s", [story.pk])
enqueue_stories([story.pk], "edited")
print(story.pk)
"""

ADD_STALE_TRANSCRIPTION = """
from datetime import timedelta
from django.utils import timezone
from capture.models import ClipSubmission, SubmissionState
from tests.factories import UserFactory
submission = ClipSubmission.objects.create(
    submitter=UserFactory(), state=SubmissionState.TRANSCRIBING, attempts=1,
    heartbeat=timezone.now() - timedelta(minutes=10), claim="killed",
)
print(submission.pk)
"""


@pytest.mark.slow
@pytest.mark.own_sqlite
def test_worker_with_a_failing_index_update_keeps_beating_and_recovering_transcriptions(tmp_path):
    env = {**_site_env(tmp_path), "SEARCH_UPDATE_RETRY_SECONDS": "600"}
    database = tmp_path / "var" / "storybank.sqlite3"
    manage(env, "migrate", "-v0")
    story_id = int(manage(env, "shell", "-c", SETUP_POISONED_SITE).stdout.split()[-1])
    worker = start_worker(env)
    try:
        wait_for(
            lambda: sqlite_row(
                database, f"SELECT 1 FROM search_pendingindexupdate WHERE story_id={story_id} AND attempts>0"
            ),
            60,
            "the worker never tried the index update",
        )
        first_beat = sqlite_row(database, "SELECT max(last_beat) FROM operations_workerheartbeat")[0]
        # Work a killed worker left behind, arriving while the failing update is around.
        submission_id = int(manage(env, "shell", "-c", ADD_STALE_TRANSCRIPTION).stdout.split()[-1])
        wait_for(
            lambda: (
                sqlite_row(
                    database,
                    f"SELECT 1 FROM capture_clipsubmission WHERE id={submission_id} AND state != 'transcribing'",
                )
                or sqlite_row(
                    database,
                    f"SELECT 1 FROM capture_clipsubmission WHERE id={submission_id} AND attempts > 1",
                )
            ),
            30,
            "the stale transcription was never re-queued",
        )
        wait_for(
            lambda: (
                sqlite_row(database, "SELECT max(last_beat) FROM operations_workerheartbeat")[0] > first_beat
            ),
            10,
            "the heartbeat stopped",
        )
        attempts = sqlite_row(
            database, f"SELECT attempts FROM search_pendingindexupdate WHERE story_id={story_id}"
        )[0]
        assert attempts == 1  # tried once, then left to its back-off
        assert worker.poll() is None
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status < 500
    except urllib.error.HTTPError as error:
        return error.code < 500 or error.code == 503  # /healthz says 503 while no worker beats
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.own_sqlite
def test_serve_restarts_a_worker_killed_with_sigkill_and_keeps_the_web_server_up(tmp_path):
    env = _site_env(tmp_path)
    database = tmp_path / "var" / "storybank.sqlite3"
    manage(env, "migrate", "-v0")
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        serve = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port), "--web-workers", "1"],
            cwd=django_settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/healthz"

    def beating_worker(other_than: int = 0) -> int | None:
        row = sqlite_row(
            database, f"SELECT pid FROM operations_workerheartbeat WHERE pid != {other_than} LIMIT 1"
        )
        return row[0] if row else None

    try:
        wait_for(lambda: _answers(url), 60, f"the web server never answered:\n{log_path.read_text()}")
        first = wait_for(beating_worker, 60, f"no worker beat:\n{log_path.read_text()}")
        os.kill(first, signal.SIGKILL)

        wait_for(lambda: beating_worker(first), 60, f"no new worker beat:\n{log_path.read_text()}")
        assert serve.poll() is None and _answers(url)
        assert "was killed by signal 9" in log_path.read_text()
    finally:
        try:
            os.killpg(serve.pid, signal.SIGTERM)
            serve.wait(timeout=30)
        except Exception:
            os.killpg(serve.pid, signal.SIGKILL)


# --- Bulk paths reach the index ----------------------------------------------------------------

IMPORTED = [
    {
        "external_id": f"crm-{number}",
        "title": f"Imported story number {number} about pallets",
        "teller": {"name": "Amara Okafor", "email": "amara@example.org"},
        "themes": ["Warehouse"],
        "context": "Pallets leaned in aisle four.",
        "aha": "Ask the night shift.",
        "outcome": "No collapses since.",
        "visibility": "public",
        "publish": True,
    }
    for number in range(3)
]


@pytest.mark.django_db
def test_imported_stories_reach_a_running_sites_index_without_a_rebuild(built_index, tmp_path):
    source = tmp_path / "stories.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in IMPORTED))

    call_command("import_stories", str(source), stdout=StringIO())

    assert find_drift().clean
    assert len(found("pallets")) == 3


@pytest.mark.django_db
def test_imported_stories_are_queued_for_the_worker(built_index, tmp_path):
    source = tmp_path / "stories.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in IMPORTED))

    call_command("import_stories", str(source), "--skip-search-index", "--batch-size", "2", stdout=StringIO())
    assert PendingIndexUpdate.objects.values("story_id").distinct().count() == 3
    apply_pending_updates()  # what the worker does every few seconds

    assert find_drift().clean and len(found("pallets")) == 3


@pytest.mark.django_db
def test_bulk_theme_approval_reaches_the_index(built_index, client):
    proposed = ThemeFactory(name="Hackathons", is_approved=False)
    story = StoryPageFactory(title="Weekend hackathon", themes=[ThemeFactory(name="Events"), proposed])
    apply_pending_updates()
    client.force_login(make_editor())
    url = reverse("wagtail_bulk_action", args=("stories", "theme", "approve_themes"))
    url += f"?id={proposed.pk}&next=/admin/"

    client.post(url, {})
    apply_pending_updates()

    assert Theme.objects.get(pk=proposed.pk).is_approved
    assert find_drift().clean
    page = search_stories(SearchQuery.from_params({"theme": "hackathons"}), AnonymousUser())
    assert [result.story.pk for result in page.results] == [story.pk]


@pytest.mark.django_db
def test_bulk_publish_and_bulk_theme_delete_reach_the_index(built_index, client):
    drafts = [
        StoryPageFactory(title=f"Draft about rotas {n}", themes=[ThemeFactory(name="Rotas")], publish=False)
        for n in range(2)
    ]
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    publish = reverse("wagtail_bulk_action", args=("wagtailcore", "page", "publish"))
    publish += "?" + "&".join(f"id={story.pk}" for story in drafts) + f"&next=/admin/pages/{library().pk}/"

    client.post(publish, {})
    apply_pending_updates()
    assert find_drift().clean and len(found("rotas")) == 2

    delete = reverse("wagtail_bulk_action", args=("stories", "theme", "delete"))
    client.post(delete + f"?id={Theme.objects.get(name='Rotas').pk}&next=/admin/", {})
    apply_pending_updates()
    assert find_drift().clean
    assert not search_stories(SearchQuery.from_params({"theme": "rotas"}), AnonymousUser()).total
