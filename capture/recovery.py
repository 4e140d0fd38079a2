"""Re-queue clip submissions whose worker died: run by every worker's housekeeping thread.

django-tasks-db leaves the task of a killed worker RUNNING for ever and never retries it, so
liveness is read from the submission's own heartbeat instead. A submission whose worker keeps
dying on it (MAX_AUTOMATIC_ATTEMPTS times) is marked failed, so one bad clip cannot loop for ever.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from capture.models import ClipSubmission, SubmissionState
from capture.tasks import enqueue_transcription

logger = logging.getLogger(__name__)

MAX_AUTOMATIC_ATTEMPTS = 3


def _stale_limit():
    return timezone.now() - timedelta(seconds=settings.WORKER_STALE_SECONDS)


def _task_is_lost(submission: ClipSubmission, limit) -> bool:
    """For a queued submission: its task row is gone, finished, or stuck RUNNING since before `limit`."""
    if not submission.task_id:
        return True
    try:
        task_row = DBTaskResult.objects.filter(pk=submission.task_id).first()
    except ValidationError:
        return True
    if task_row is None:
        return True
    if task_row.status in (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED):
        return True
    return task_row.status == TaskResultStatus.RUNNING and (task_row.started_at or limit) < limit


def _close_abandoned_task(task_id: str) -> None:
    """Mark the dead run's task row failed, so the queue no longer shows it RUNNING."""
    if task_id:
        try:
            DBTaskResult.objects.get(pk=task_id)
        except (ValidationError, DBTaskResult.DoesNotExist):
            return
        DBTaskResult.objects.filter(pk=task_id, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED,
            finished_at=timezone.now(),
            exception_class_path="capture.recovery.WorkerLost",
            traceback="The worker stopped beating while running this task; the work was re-queued.",
        )


def requeue_stale_submissions() -> int:
    """Re-queue each submission a dead worker left behind; returns how many were re-queued."""
    limit = _stale_limit()
    candidates = ClipSubmission.objects.filter(
        Q(state=SubmissionState.TRANSCRIBING, heartbeat__lt=limit)
        | Q(state=SubmissionState.TRANSCRIBING, heartbeat__isnull=True)
        | Q(state=SubmissionState.QUEUED, updated_at__lt=limit)
    ).values_list("pk", flat=True)
    requeued = 0
    for submission_id in list(candidates):
        if requeue_if_stale(submission_id):
            requeued += 1
    return requeued


def requeue_if_stale(submission_id: int) -> bool:
    limit = _stale_limit()
    with transaction.atomic():
        submission = ClipSubmission.objects.select_for_update().filter(pk=submission_id).first()
        if submission is None or submission.story_id is not None:
            return False
        if submission.state == SubmissionState.TRANSCRIBING:
            if submission.heartbeat is not None and submission.heartbeat >= limit:
                return False
        elif submission.state == SubmissionState.QUEUED:
            if submission.updated_at >= limit or not _task_is_lost(submission, limit):
                return False
        else:
            return False
        _close_abandoned_task(submission.task_id)
        if submission.attempts >= MAX_AUTOMATIC_ATTEMPTS:
            submission.state = SubmissionState.FAILED
            submission.error = (
                f"The worker stopped {submission.attempts} times while transcribing this clip. "
                "It is kept; you can try again."
            )
            submission.heartbeat = None
            submission.finished_at = timezone.now()
            submission.save()
            logger.error("Submission %s failed after %s attempts", submission_id, submission.attempts)
            return False
        submission.state = SubmissionState.QUEUED
        submission.claim = ""
        submission.heartbeat = None
        submission.save()
        enqueue_transcription(submission)
    logger.warning("Re-queued submission %s after its worker stopped", submission_id)
    return True
