"""The Questions board: open and answered tabs, the theme filter, newest first, in pages."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from questions.models import Question, QuestionStatus
from questions.views import QUESTIONS_PER_PAGE
from tests.factories import StoryPageFactory, ThemeFactory
from tests.questions.conftest import QuestionFactory

pytestmark = pytest.mark.django_db

BOARD = reverse("questions:board")


@pytest.fixture
def board_questions(asker):
    materials = ThemeFactory(name="Materials")
    finance = ThemeFactory(name="Finance")
    story = StoryPageFactory(title="The coating that lasted")
    questions = {
        "coating": QuestionFactory(text="Which coating lasts on pumps?", asker=asker, themes=[materials]),
        "budget": QuestionFactory(text="Who approves the travel budget?", asker=asker, themes=[finance]),
        "answered": QuestionFactory(
            text="Has anyone tested ceramic coatings?",
            asker=asker,
            status=QuestionStatus.ANSWERED,
            answered_by=story,
            themes=[materials],
        ),
    }
    Question.objects.filter(pk=questions["coating"].pk).update(
        created_at=timezone.now() - datetime.timedelta(days=2)
    )
    return questions


def listed(response) -> list[str]:
    return [row.question.text for row in response.context["rows"]]


def test_the_open_tab_lists_open_questions_newest_first(asker_client, board_questions):
    response = asker_client.get(BOARD)

    html = response.content.decode()
    assert response.status_code == 200
    assert listed(response) == ["Who approves the travel budget?", "Which coating lasts on pumps?"]
    assert '<a class="chip" href="?status=open" aria-current="page">Open</a>' in html
    assert '<a class="chip" href="?status=answered">Answered</a>' in html


def test_the_answered_tab_lists_answered_questions_with_their_story(asker_client, board_questions):
    response = asker_client.get(BOARD, {"status": "answered"})

    html = response.content.decode()
    assert listed(response) == ["Has anyone tested ceramic coatings?"]
    assert "Answered by <a href=" in html and "The coating that lasted</a>" in html
    assert 'href="?status=answered" aria-current="page"' in html


def test_the_theme_filter_keeps_the_questions_on_that_theme(asker_client, board_questions):
    response = asker_client.get(BOARD, {"theme": "materials"})

    assert listed(response) == ["Which coating lasts on pumps?"]
    assert 'href="?status=answered&amp;theme=materials"' in response.content.decode()


def test_an_unknown_theme_says_so(asker_client, board_questions):
    response = asker_client.get(BOARD, {"theme": "no-such-theme"})

    assert response.status_code == 200
    assert listed(response) == []
    assert "No theme is called “no-such-theme”" in response.content.decode()


def test_an_empty_board_says_what_to_do(asker_client):
    response = asker_client.get(BOARD)

    html = response.content.decode()
    assert "No open questions" in html
    assert reverse("questions:ask") in html


def test_an_unknown_tab_is_a_400(asker_client):
    response = asker_client.get(BOARD, {"status": "secret"})

    assert response.status_code == 400
    assert "must be one of open, answered" in response.content.decode()


def test_the_board_is_paginated(asker_client, asker):
    for number in range(QUESTIONS_PER_PAGE + 3):
        QuestionFactory(text=f"Paged question {number}?", asker=asker)

    first = asker_client.get(BOARD)
    second = asker_client.get(BOARD, {"page": 2})

    assert len(listed(first)) == QUESTIONS_PER_PAGE
    assert len(listed(second)) == 3
    assert 'aria-label="Question pages"' in first.content.decode()
