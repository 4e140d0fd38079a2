"""Answering a question with a clip: the recorder's link carries the question, the draft answers it on publish."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from capture.models import ClipSubmission, SubmissionState
from capture.tasks import process_submission
from questions.models import QuestionStatus, StoryInAnswer
from tests.capture.fixtures.speech import as_upload, speak
from tests.factories import ThemeFactory
from tests.questions.conftest import CORROSION_QUESTION, QuestionFactory
from tests.questions.test_story_in_answer import editor_acts

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_question(asker):
    return QuestionFactory(text=CORROSION_QUESTION, asker=asker)


def recorder_link(client, question) -> dict:
    page = client.get(question.get_absolute_url())
    url = page.context["voice_url"]
    assert urlsplit(url).path == reverse("capture:voice")
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_the_recorder_opened_from_a_question_shows_it_and_carries_its_origin(
    client, colleague, open_question
):
    client.force_login(colleague)
    link = recorder_link(client, open_question)

    page = client.get(reverse("capture:voice"), link).content.decode()

    assert link["context"] == CORROSION_QUESTION
    assert "You are telling the story that answers" in page
    assert CORROSION_QUESTION in page
    assert f'data-origin="{link["origin"]}"' in page
    assert f'<input type="hidden" name="origin" value="{link["origin"]}">' in page


@pytest.mark.whisper
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_clip_told_from_the_question_answers_it_once_the_story_is_published(
    client, colleague, open_question, editor, editorial_review, tmp_path
):
    ThemeFactory(name="Corrosion")  # the draft's suggested theme: a story needs one to be published
    client.force_login(colleague)
    link = recorder_link(client, open_question)
    clip = as_upload(speak(tmp_path, "The lab stopped the pump corrosion with a ceramic coating.", fmt="mp3"))
    response = client.post(
        reverse("capture:voice"), {"mode": "free", "clip": clip, "consent": "1", "origin": link["origin"]}
    )
    assert response.status_code in (302, 303), response.content[:300]

    submission = ClipSubmission.objects.get()
    assert process_submission(submission.pk) == SubmissionState.DRAFTED
    submission.refresh_from_db()

    [link_row] = StoryInAnswer.objects.all()
    assert (link_row.question, link_row.story, link_row.teller) == (
        open_question,
        submission.story,
        colleague,
    )
    open_question.refresh_from_db()
    assert open_question.status == QuestionStatus.OPEN  # a draft answers nothing

    editor_acts(client, editor, submission.story, "approve")

    open_question.refresh_from_db()
    assert open_question.status == QuestionStatus.ANSWERED
    assert open_question.answered_by_id == submission.story.pk
