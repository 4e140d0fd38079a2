"""A question's page: answering it by pointing to a story, closing it, and what it shows."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from questions.models import QuestionRouting, QuestionStatus
from tests.factories import StoryPageFactory, UserFactory, make_editor
from tests.questions.conftest import CORROSION_QUESTION, QuestionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_question(asker, corrosion_library):
    question = QuestionFactory(text=CORROSION_QUESTION, asker=asker)
    QuestionRouting.objects.create(question=question, person=corrosion_library.kim)
    return question


@pytest.fixture
def colleague_client(client, colleague):
    client.force_login(colleague)
    return client


def answer(client, question, story_reference):
    return client.post(reverse("questions:answer", args=[question.pk]), {"story": story_reference})


def test_the_page_shows_the_question_asker_routed_people_and_suggestions(colleague_client, open_question):
    response = colleague_client.get(open_question.get_absolute_url())

    html = response.content.decode()
    assert response.status_code == 200
    assert CORROSION_QUESTION in html
    assert "Asked by Lena Berg" in html
    assert '<a href="/people/kim-lab/">Kim Lab</a>' in html
    assert (
        response.context["results"][0].story.title == "Corrosion on the cooling pumps stopped with a coating"
    )
    assert ">This story answers it<span" in html


def test_pointing_to_a_staff_only_story_answers_it_and_tells_the_asker(
    colleague_client, open_question, corrosion_library
):
    story = corrosion_library.staff_lab

    response = answer(colleague_client, open_question, f"https://stories.example.org{story.url}")

    open_question.refresh_from_db()
    assert response.status_code == 302
    assert open_question.status == QuestionStatus.ANSWERED
    assert open_question.answered_by_id == story.pk
    assert open_question.answered_at is not None
    [message] = mail.outbox
    assert message.to == ["lena@example.org"]
    assert message.subject == "Answered: Who knows how to stop corrosion on the cooling pumps?"
    assert f"https://stories.example.org{story.url}" in message.body
    assert f'href="https://stories.example.org{story.url}"' in message.alternatives[0][0]
    page = colleague_client.get(open_question.get_absolute_url()).content.decode()
    assert f'Answered by <a href="{story.url}">Inside the staff materials lab</a>' in page


def test_a_story_may_be_named_by_its_number(colleague_client, open_question, corrosion_library):
    response = answer(colleague_client, open_question, str(corrosion_library.pumps.pk))

    open_question.refresh_from_db()
    assert response.status_code == 302
    assert open_question.answered_by_id == corrosion_library.pumps.pk


def test_pointing_to_ones_own_draft_is_refused_with_the_reason(colleague_client, colleague, open_question):
    draft = StoryPageFactory(title="My corrosion notes", publish=False, owner=colleague)

    response = answer(colleague_client, open_question, str(draft.pk))

    open_question.refresh_from_db()
    assert response.status_code == 400
    assert "“My corrosion notes” is not published yet" in response.content.decode()
    assert open_question.status == QuestionStatus.OPEN
    assert open_question.answered_by is None
    assert mail.outbox == []


def test_pointing_to_someone_elses_draft_does_not_name_it(colleague_client, open_question):
    draft = StoryPageFactory(title="Secret corrosion notes", publish=False, owner=UserFactory())

    response = answer(colleague_client, open_question, str(draft.pk))

    html = response.content.decode()
    assert response.status_code == 400
    assert "No published story you can read has that address." in html
    assert "Secret corrosion notes" not in html


@pytest.mark.parametrize("reference", ["", "/stories/no-such-story/", "99999999999999"])
def test_pointing_to_nothing_is_a_400_with_the_reason(colleague_client, open_question, reference):
    response = answer(colleague_client, open_question, reference)

    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    open_question.refresh_from_db()
    assert open_question.status == QuestionStatus.OPEN


def test_an_answered_question_cannot_be_answered_again(colleague_client, open_question, corrosion_library):
    answer(colleague_client, open_question, str(corrosion_library.pumps.pk))

    response = answer(colleague_client, open_question, str(corrosion_library.expert.pk))

    open_question.refresh_from_db()
    assert response.status_code == 400
    assert open_question.answered_by_id == corrosion_library.pumps.pk


def test_the_asker_may_close_their_question(asker_client, open_question):
    response = asker_client.post(reverse("questions:close", args=[open_question.pk]))

    open_question.refresh_from_db()
    assert response.status_code == 302
    assert open_question.status == QuestionStatus.CLOSED


def test_an_editor_may_close_a_question(client, open_question):
    client.force_login(make_editor())

    client.post(reverse("questions:close", args=[open_question.pk]))

    open_question.refresh_from_db()
    assert open_question.status == QuestionStatus.CLOSED


def test_another_colleague_may_not_close_it(colleague_client, open_question):
    page = colleague_client.get(open_question.get_absolute_url()).content.decode()
    response = colleague_client.post(reverse("questions:close", args=[open_question.pk]))

    open_question.refresh_from_db()
    assert "Close this question" not in page
    assert response.status_code == 403
    assert open_question.status == QuestionStatus.OPEN


def test_an_answer_whose_story_was_withdrawn_is_not_shown(colleague_client, asker, corrosion_library):
    story = corrosion_library.pumps
    question = QuestionFactory(asker=asker, status=QuestionStatus.ANSWERED, answered_by=story)
    story.unpublish()

    html = colleague_client.get(question.get_absolute_url()).content.decode()

    assert story.title not in html
    assert "Answered by a story that is not published at the moment." in html
