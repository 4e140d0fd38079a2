"""Answering a question with a new story: told from the question, closed only once it is published."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.core.signing import dumps
from django.urls import reverse

from questions.models import QuestionStatus, StoryInAnswer
from questions.telling import story_origin
from stories.models import StoryPage
from tests.capture.form_data import story_data
from tests.factories import StoryPageFactory, UserFactory
from tests.questions.conftest import CORROSION_QUESTION, QuestionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_question(asker):
    return QuestionFactory(text=CORROSION_QUESTION, asker=asker)


@pytest.fixture
def teller_client(client, colleague, editorial_review):
    client.force_login(colleague)
    return client


def asker_mail() -> list:
    """E-mails to Lena, the asker (the editors are e-mailed too when a story goes to review)."""
    return [message for message in mail.outbox if message.to == ["lena@example.org"]]


def tell(client, question, **overrides) -> StoryPage:
    """Follow "Tell the story that answers it" to the share form, and send the story."""
    share_url = client.get(reverse("questions:tell", args=[question.pk]))["Location"]
    prefill = {name: values[0] for name, values in parse_qs(urlsplit(share_url).query).items()}
    response = client.post(
        "/share/", story_data(context=prefill["context"], origin=prefill["origin"], **overrides)
    )
    assert response.status_code == 302, response.content[:500]
    return StoryPage.objects.order_by("-pk").first()


def editor_acts(client, editor, story: StoryPage, action: str) -> None:
    """An editor clicks Approve (which publishes) or Request changes in the Wagtail admin."""
    task_state = StoryPage.objects.get(pk=story.pk).current_workflow_state.current_task_state
    client.force_login(editor)
    response = client.post(
        f"/admin/pages/workflow/action/{story.pk}/{action}/{task_state.pk}/", {"comment": ""}
    )
    assert response.status_code == 302, response.content[:500]


def test_tell_opens_the_share_form_with_the_question_as_the_situation(teller_client, open_question):
    response = teller_client.get(reverse("questions:tell", args=[open_question.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith("/share/?")
    form = teller_client.get(response["Location"]).content.decode()
    assert f'id="id_context">\n{CORROSION_QUESTION}</textarea>' in form
    assert '<input type="hidden" name="origin" value="' in form


def test_the_question_closes_only_when_the_story_is_published_and_the_asker_is_told_once(
    teller_client, client, colleague, open_question, editor, django_capture_on_commit_callbacks
):
    story = tell(teller_client, open_question, title="The coating that stopped pump corrosion")

    open_question.refresh_from_db()
    assert story.context == CORROSION_QUESTION
    assert not story.live
    assert StoryPage.objects.get(pk=story.pk).current_workflow_state is not None  # sent for review
    assert list(StoryInAnswer.objects.values_list("question", "story", "teller")) == [
        (open_question.pk, story.pk, colleague.pk)
    ]
    assert open_question.status == QuestionStatus.OPEN
    assert open_question.answered_by is None
    assert asker_mail() == []

    with django_capture_on_commit_callbacks(execute=True):
        editor_acts(client, editor, story, "approve")

    open_question.refresh_from_db()
    assert StoryPage.objects.get(pk=story.pk).live
    assert open_question.status == QuestionStatus.ANSWERED
    assert open_question.answered_by_id == story.pk
    assert open_question.answered_at is not None
    [message] = asker_mail()
    assert message.subject == "Answered: Who knows how to stop corrosion on the cooling pumps?"
    assert "The coating that stopped pump corrosion" in message.body
    assert "Theo answered it with the story" in message.body


def test_changes_requested_and_an_edit_leave_the_question_open(
    teller_client, client, colleague, open_question, editor, django_capture_on_commit_callbacks
):
    story = tell(teller_client, open_question)
    with django_capture_on_commit_callbacks(execute=True):
        editor_acts(client, editor, story, "reject")
    client.force_login(colleague)
    edited = client.post(f"/share/story/{story.pk}/edit/", story_data(title="Better told"))
    assert edited.status_code == 302

    open_question.refresh_from_db()
    assert open_question.status == QuestionStatus.OPEN
    assert asker_mail() == []


def test_the_question_page_says_a_story_told_in_answer_is_with_the_editors(teller_client, open_question):
    tell(teller_client, open_question)

    page = teller_client.get(open_question.get_absolute_url()).content.decode()

    assert "A story told to answer it is with the editors." in page


def test_a_question_answered_meanwhile_keeps_its_answer(
    teller_client, client, open_question, editor, django_capture_on_commit_callbacks
):
    story = tell(teller_client, open_question)
    first_answer = StoryPageFactory(title="Answered first")
    open_question.status, open_question.answered_by = QuestionStatus.ANSWERED, first_answer
    open_question.save()

    with django_capture_on_commit_callbacks(execute=True):
        editor_acts(client, editor, story, "approve")

    open_question.refresh_from_db()
    assert open_question.answered_by_id == first_answer.pk
    assert asker_mail() == []


def test_withdrawing_the_story_leaves_the_question_answered_and_says_so(
    teller_client, client, open_question, editor, django_capture_on_commit_callbacks
):
    story = tell(teller_client, open_question, title="Soon withdrawn")
    with django_capture_on_commit_callbacks(execute=True):
        editor_acts(client, editor, story, "approve")

    StoryPage.objects.get(pk=story.pk).unpublish()

    open_question.refresh_from_db()
    assert open_question.status == QuestionStatus.ANSWERED
    page = teller_client.get(open_question.get_absolute_url()).content.decode()
    assert "Answered by a story that is not published at the moment." in page
    assert "Soon withdrawn" not in page


@pytest.mark.parametrize("signed_elsewhere", [False, True], ids=["typed", "signed-for-something-else"])
def test_an_origin_we_did_not_sign_links_nothing(teller_client, colleague, open_question, signed_elsewhere):
    typed = f"question-{open_question.pk}"
    origin = (
        dumps({"question": open_question.pk, "teller": colleague.pk}, salt="other")
        if signed_elsewhere
        else typed
    )

    response = teller_client.post("/share/", story_data(origin=origin))

    assert response.status_code == 302
    assert StoryPage.objects.filter(title=story_data()["title"]).count() == 1
    assert StoryInAnswer.objects.count() == 0


def test_another_tellers_link_links_nothing(teller_client, open_question):
    someone_else = UserFactory(username="someone")
    response = teller_client.post("/share/", story_data(origin=story_origin(open_question, someone_else)))

    assert response.status_code == 302
    assert StoryInAnswer.objects.count() == 0


def test_tell_on_an_answered_question_goes_back_to_it(teller_client, asker):
    question = QuestionFactory(asker=asker, status=QuestionStatus.CLOSED)

    response = teller_client.get(reverse("questions:tell", args=[question.pk]))

    assert response["Location"] == question.get_absolute_url()


def test_anonymous_readers_cannot_tell(client, open_question):
    response = client.get(reverse("questions:tell", args=[open_question.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
