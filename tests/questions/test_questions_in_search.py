"""Questions found by what they ask: on /search/ beside the stories, and with the board's search box."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from questions.asking import answer_question, post_question
from questions.models import QuestionStatus
from tests.questions.conftest import CORROSION_QUESTION, QuestionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def questions(corrosion_library, asker):
    return {
        "pumps": QuestionFactory(text="Why do the cooling pumps corrode so fast?", asker=asker),
        "answered": QuestionFactory(
            text="Who fixed the corrosion on the roof vents?", asker=asker, status=QuestionStatus.ANSWERED
        ),
        "closed": QuestionFactory(
            text="Corrosion report template?", asker=asker, status=QuestionStatus.CLOSED
        ),
        "other": QuestionFactory(text="Where is the quarterly budget?", asker=asker),
    }


def test_search_shows_open_and_answered_questions_with_the_words_to_signed_in_readers(
    questions, asker_client
):
    response = asker_client.get(reverse("search:page"), {"q": "corrosion"})

    body = response.content.decode()
    assert "Questions about this" in body
    assert f'href="{questions["answered"].get_absolute_url()}"' in body
    assert questions["closed"].get_absolute_url() not in body  # closed: nothing to learn from
    assert questions["other"].get_absolute_url() not in body


def test_search_shows_no_question_to_anonymous_readers(questions, client):
    body = client.get(reverse("search:page"), {"q": "corrosion"}).content.decode()

    assert "Questions about this" not in body
    for question in questions.values():
        assert question.text not in body


def test_the_board_search_finds_questions_with_every_word(questions, asker_client):
    response = asker_client.get(reverse("questions:board"), {"q": "cooling pumps corrode"})

    assert [row.question for row in response.context["rows"]] == [questions["pumps"]]


def test_the_board_search_keeps_the_tab(questions, asker_client):
    response = asker_client.get(reverse("questions:board"), {"q": "corrosion", "status": "answered"})

    assert [row.question for row in response.context["rows"]] == [questions["answered"]]


def test_a_board_search_of_only_question_words_lists_every_question(questions, asker_client):
    response = asker_client.get(reverse("questions:board"), {"q": "who what"})

    assert {row.question for row in response.context["rows"]} == {questions["pumps"], questions["other"]}


def test_a_story_that_answered_a_question_like_it_comes_first_on_search(
    corrosion_library, asker, asker_client, meaning_search
):
    text = "Who can help with corroding cooling pumps and pipes?"
    visitor = Client()
    plain = [item["id"] for item in visitor.get("/api/search/", {"q": text}).json()["results"]]
    expert = corrosion_library.expert
    assert plain.index(expert.pk) > 0
    earlier, _ = post_question(CORROSION_QUESTION, asker)
    answer_question(earlier, expert, asker)

    signed_in = [item["id"] for item in asker_client.get("/api/search/", {"q": text}).json()["results"]]
    anonymous = [item["id"] for item in visitor.get("/api/search/", {"q": text}).json()["results"]]
    page = asker_client.get(reverse("search:page"), {"q": text})

    assert signed_in[0] == expert.pk and sorted(signed_in) == sorted(plain)
    assert anonymous == plain  # questions are for colleagues: nothing of them reaches anyone else
    assert page.context["results"][0].story.pk == expert.pk
