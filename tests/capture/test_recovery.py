"""A worker killed mid-job leaves work that is re-queued and completes once, with exactly one draft."""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from capture.models import ClipSubmission, SubmissionState
from capture.recovery import MAX_AUTOMATIC_ATTEMPTS, requeue_stale_submissions
from stories.models import StoryPage
from tests.capture.fixtures.speech import as_upload, speak
from tests.factories import UserFactory
from tests.processes import manage, sqlite_row, start_worker, wait_for

LONG_AGO = timedelta(minutes=10)


def submit_clip(
    client, tmp_path, text="The printer was broken for a week, so we fixed it."
) -> ClipSubmission:
    user = UserFactory(username="kim")
    client.force_login(user)
    response = client.post("/share/voice/", {"mode": "free", "clip": as_upload(speak(tmp_path, text))})
    assert response.status_code == 303
    return ClipSubmission.objects.get()


def leave_as_killed_worker_would(submission: ClipSubmission) -> DBTaskResult:
    """What SIGKILL leaves: the task RUNNING for ever, the submission TRANSCRIBING with an old heartbeat."""
    task_row = DBTaskResult.objects.get(pk=submission.task_id)
    task_row.claim("killed-worker")
    DBTaskResult.objects.filter(pk=task_row.pk).update(started_at=timezone.now() - LONG_AGO)
    ClipSubmission.objects.filter(pk=submission.pk).update(
        state=SubmissionState.TRANSCRIBING,
        heartbeat=timezone.now() - LONG_AGO,
        claim="killed",
        attempts=1,
        progress=37,
    )
    return task_row


@pytest.mark.whisper
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_stale_transcription_is_requeued_and_completes_once(client, tmp_path):
    submission = submit_clip(client, tmp_path)
    dead_task = leave_as_killed_worker_would(submission)

    assert requeue_stale_submissions() == 1
    submission.refresh_from_db()
    assert submission.state == SubmissionState.QUEUED
    dead_task.refresh_from_db()
    assert dead_task.status == "FAILED"
    new_task = DBTaskResult.objects.get(pk=submission.task_id)
    assert new_task.status == "READY" and new_task.args_kwargs["args"] == [submission.pk]

    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    submission.refresh_from_db()
    assert submission.state == SubmissionState.DRAFTED and submission.attempts == 2
    assert "printer" in submission.transcript.lower()
    assert DBTaskResult.objects.get(pk=new_task.pk).status == "SUCCESSFUL"
    assert StoryPage.objects.filter(clip__submission_parts__submission=submission).count() == 1
    assert requeue_stale_submissions() == 0


@pytest.mark.django_db
def test_a_live_transcription_is_left_alone(client, tmp_path):
    submission = submit_clip(client, tmp_path)
    ClipSubmission.objects.filter(pk=submission.pk).update(
        state=SubmissionState.TRANSCRIBING, heartbeat=timezone.now(), claim="alive"
    )
    assert requeue_stale_submissions() == 0
    assert ClipSubmission.objects.get().claim == "alive"


@pytest.mark.django_db
def test_queued_submission_whose_worker_died_before_starting_it_is_requeued(
    client, tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submission = submit_clip(client, tmp_path)
    submission.refresh_from_db()
    dead_task = DBTaskResult.objects.get(pk=submission.task_id)
    dead_task.claim("killed-worker")
    DBTaskResult.objects.filter(pk=dead_task.pk).update(started_at=timezone.now() - LONG_AGO)
    ClipSubmission.objects.filter(pk=submission.pk).update(updated_at=timezone.now() - LONG_AGO)
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_stale_submissions() == 1
    assert ClipSubmission.objects.get().task_id != str(dead_task.pk)


@pytest.mark.django_db
def test_a_clip_that_keeps_killing_the_worker_is_marked_failed_and_can_be_retried(
    client, tmp_path, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        submission = submit_clip(client, tmp_path)
    submission.refresh_from_db()
    leave_as_killed_worker_would(submission)
    ClipSubmission.objects.filter(pk=submission.pk).update(attempts=MAX_AUTOMATIC_ATTEMPTS)
    assert requeue_stale_submissions() == 0
    body = client.get(f"/share/{submission.pk}/status/").json()
    assert body["state"] == "failed" and "stopped 3 times" in body["error"] and body["can_retry"]


# A real worker process, killed with SIGKILL while it transcribes, and a second one that recovers.


SUBMIT_SCRIPT = """
from django.core.files.uploadedfile import SimpleUploadedFile
from django.contrib.auth import get_user_model
from capture.clip_intake import create_submission
user = get_user_model().objects.create_user("killtest", password="x")
with open({clip!r}, "rb") as handle:
    upload = SimpleUploadedFile("long.wav", handle.read())
print(create_submission(user, mode="free", uploads={{"free": upload}}).pk)
"""


@pytest.mark.whisper
@pytest.mark.slow
@pytest.mark.own_sqlite
def test_worker_killed_with_sigkill_mid_transcription_is_recovered_by_the_next_worker(tmp_path):
    var = tmp_path / "var"
    env = {
        **os.environ,
        "DATABASE_URL": "",
        "STORYBANK_VAR_DIR": str(var),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "WORKER_STALE_SECONDS": "5",
        "WORKER_HEARTBEAT_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    database = var / "storybank.sqlite3"
    manage(env, "migrate", "-v0")
    sentence = "We kept a list of every customer question and the answer that finally worked. "
    clip = speak(tmp_path, sentence * 12, name="long")
    submission_id = int(manage(env, "shell", "-c", SUBMIT_SCRIPT.format(clip=str(clip))).stdout.split()[-1])

    first = start_worker(env)
    try:
        wait_for(
            lambda: sqlite_row(
                database,
                f"SELECT 1 FROM capture_clipsubmission WHERE id={submission_id} "
                "AND state='transcribing' AND progress > 0",
            ),
            90,
            "the first worker never started transcribing",
        )
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    state, progress = sqlite_row(
        database, f"SELECT state, progress FROM capture_clipsubmission WHERE id={submission_id}"
    )
    assert state == "transcribing" and progress < 100
    assert (
        sqlite_row(
            database, "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status='RUNNING'"
        )[0]
        == 1
    )
    assert sqlite_row(database, "SELECT count(*) FROM wagtailcore_page WHERE depth=4")[0] == 0

    second = start_worker(env)
    try:
        wait_for(
            lambda: sqlite_row(
                database, f"SELECT 1 FROM capture_clipsubmission WHERE id={submission_id} AND state='drafted'"
            ),
            120,
            "the second worker never finished the job",
        )
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(20)
        except subprocess.TimeoutExpired:
            second.kill()
    attempts, transcript = sqlite_row(
        database, f"SELECT attempts, transcript FROM capture_clipsubmission WHERE id={submission_id}"
    )
    assert attempts == 2
    assert "customer question" in transcript.lower()
    assert sqlite_row(database, "SELECT count(*) FROM stories_storypage")[0] == 1
    assert (
        sqlite_row(
            database, "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status='RUNNING'"
        )[0]
        == 0
    )
