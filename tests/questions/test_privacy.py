"""Questions are for signed-in colleagues: an anonymous reader sees none, through any door."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from questions.models import Question, QuestionStatus
from questions.visibility import shown_answer, visible_questions
from stories.models import Visibility
from tests.factories import StoryPageFactory
from tests.questions.conftest import QuestionFactory

pytestmark = pytest.mark.django_db

SECRET_QUESTION = "How do we price the confidential Zephyr contract?"


@pytest.fixture
def question(asker):
    return QuestionFactory(text=SECRET_QUESTION, asker=asker)


@pytest.mark.parametrize(
    "url",
    [
        lambda question: reverse("questions:board"),
        lambda question: reverse("questions:board") + "?status=answered",
        lambda question: question.get_absolute_url(),
        lambda question: reverse("questions:ask") + "?q=Zephyr",
    ],
)
def test_anonymous_readers_are_sent_to_sign_in_and_see_no_question(client, question, url):
    response = client.get(url(question))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert SECRET_QUESTION not in client.get(url(question), follow=True).content.decode()


def test_anonymous_readers_cannot_post_answer_or_close(client, question):
    story = StoryPageFactory()
    responses = [
        client.post(reverse("questions:post"), {"q": "An anonymous question?"}),
        client.post(reverse("questions:answered_by_suggestion"), {"q": "Another?", "story": story.pk}),
        client.post(reverse("questions:answer", args=[question.pk]), {"story": story.pk}),
        client.post(reverse("questions:close", args=[question.pk])),
    ]

    assert [response.status_code for response in responses] == [302] * 4
    assert list(Question.objects.values_list("text", "status")) == [(SECRET_QUESTION, QuestionStatus.OPEN)]


def test_a_missing_question_is_a_404_for_colleagues(asker_client, question):
    assert asker_client.get(reverse("questions:detail", args=[question.pk + 1])).status_code == 404


def test_the_rule_admits_signed_in_users_only(question, asker):
    assert list(visible_questions(asker)) == [question]
    assert list(visible_questions(AnonymousUser())) == []


def test_a_staff_only_answer_is_shown_to_colleagues_only(asker):
    story = StoryPageFactory(title="Staff pricing notes", visibility=Visibility.STAFF)
    question = QuestionFactory(asker=asker, status=QuestionStatus.ANSWERED, answered_by=story)

    assert shown_answer(question, asker) == story
    assert shown_answer(question, AnonymousUser()) is None
