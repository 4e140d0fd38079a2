"""The status page and its JSON: who may see a submission, what each state shows, retrying a failure."""

import pytest
from django_tasks_db.models import DBTaskResult

from capture.models import ClipPart, ClipSubmission, SubmissionState
from stories.models import Clip
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def make_submission(user, **fields) -> ClipSubmission:
    submission = ClipSubmission.objects.create(submitter=user, **fields)
    clip = Clip.objects.create(file="clips/example.webm", duration=12.0, original_name="hello.webm")
    ClipPart.objects.create(submission=submission, clip=clip)
    return submission


@pytest.fixture
def submitter():
    return UserFactory(username="sam")


def test_submitter_sees_the_queued_state_and_the_page_polls_its_json(client, submitter):
    submission = make_submission(submitter)
    client.force_login(submitter)
    page = client.get(f"/share/{submission.pk}/").content.decode()
    assert "Queued" in page
    assert f'data-status-url="/share/{submission.pk}/status/"' in page
    assert "status.js" in page and 'role="progressbar"' in page
    body = client.get(f"/share/{submission.pk}/status/").json()
    assert body == {
        **body,
        "state": "queued",
        "progress": 0,
        "story_url": None,
        "transcript": "",
        "error": "",
    }


def test_json_reports_progress_while_transcribing(client, submitter):
    submission = make_submission(submitter, state=SubmissionState.TRANSCRIBING, progress=42.7)
    client.force_login(submitter)
    body = client.get(f"/share/{submission.pk}/status/").json()
    assert (body["state"], body["progress"]) == ("transcribing", 42)
    assert 'aria-valuenow="42"' in client.get(f"/share/{submission.pk}/").content.decode()


@pytest.mark.parametrize("path", ["/share/{pk}/", "/share/{pk}/status/"])
def test_another_staff_member_gets_404(client, submitter, path):
    submission = make_submission(submitter)
    client.force_login(UserFactory(username="nosy"))
    assert client.get(path.format(pk=submission.pk)).status_code == 404


def test_another_staff_member_cannot_retry(client, submitter):
    submission = make_submission(submitter, state=SubmissionState.FAILED, error="Broken")
    client.force_login(UserFactory(username="nosy"))
    assert client.post(f"/share/{submission.pk}/retry/").status_code == 404
    assert ClipSubmission.objects.get().state == SubmissionState.FAILED


@pytest.mark.parametrize("editor_kind", ["editors_group", "superuser"])
def test_editors_may_see_any_submission(client, submitter, editor_kind):
    submission = make_submission(submitter)
    if editor_kind == "superuser":
        editor = UserFactory(username="root", is_superuser=True, is_staff=True)
    else:
        editor = UserFactory(username="ed", groups=["Editors"])
    client.force_login(editor)
    assert client.get(f"/share/{submission.pk}/").status_code == 200
    assert client.get(f"/share/{submission.pk}/status/").json()["state"] == "queued"


def test_anonymous_visitor_is_sent_to_sign_in(client, submitter):
    submission = make_submission(submitter)
    response = client.get(f"/share/{submission.pk}/status/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_failed_submission_shows_the_reason_and_a_retry_button(client, submitter):
    submission = make_submission(
        submitter, state=SubmissionState.FAILED, error="The stored clip file is missing."
    )
    client.force_login(submitter)
    page = client.get(f"/share/{submission.pk}/").content.decode()
    assert "The stored clip file is missing." in page
    assert f'action="/share/{submission.pk}/retry/"' in page and "Try again" in page
    body = client.get(f"/share/{submission.pk}/status/").json()
    assert (
        body["state"] == "failed"
        and body["error"] == "The stored clip file is missing."
        and body["can_retry"]
    )


def test_retry_queues_the_failed_submission_again(client, submitter, django_capture_on_commit_callbacks):
    submission = make_submission(submitter, state=SubmissionState.FAILED, error="Broken", attempts=1)
    client.force_login(submitter)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/share/{submission.pk}/retry/")
    assert response.status_code == 303 and response["Location"] == f"/share/{submission.pk}/"
    submission.refresh_from_db()
    assert (submission.state, submission.error) == (SubmissionState.QUEUED, "")
    assert DBTaskResult.objects.get(pk=submission.task_id).args_kwargs["args"] == [submission.pk]


def test_an_editor_may_retry(client, submitter, django_capture_on_commit_callbacks):
    submission = make_submission(submitter, state=SubmissionState.FAILED, error="Broken")
    client.force_login(UserFactory(username="ed", groups=["Editors"]))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/share/{submission.pk}/retry/")
    assert ClipSubmission.objects.get().state == SubmissionState.QUEUED


def test_retrying_a_submission_that_did_not_fail_changes_nothing(client, submitter):
    submission = make_submission(submitter, state=SubmissionState.TRANSCRIBING, progress=30)
    client.force_login(submitter)
    response = client.post(f"/share/{submission.pk}/retry/", headers={"Accept": "application/json"})
    assert response.status_code == 409
    assert ClipSubmission.objects.get().state == SubmissionState.TRANSCRIBING
    assert not DBTaskResult.objects.filter(task_path="capture.tasks.transcribe_submission").exists()


def test_editors_find_every_clip_submission_in_the_admin(client, submitter):
    make_submission(submitter, state=SubmissionState.FAILED, error="The stored clip file is missing.")
    client.force_login(UserFactory(username="ed", groups=["Editors"]))
    page = client.get("/admin/clip_submissions/").content.decode()
    assert "The stored clip file is missing." in page and "Status page" in page
    client.force_login(submitter)
    assert client.get("/admin/clip_submissions/").status_code != 200
