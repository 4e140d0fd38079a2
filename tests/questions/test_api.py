"""/api/questions/: the questions a signed-in colleague may see, as JSON, filtered and in pages."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from questions.api import QUESTIONS_PER_PAGE
from questions.models import Answer, Question, QuestionSource, QuestionStatus
from stories.models import Visibility
from tests.factories import StoryPageFactory, ThemeFactory, UserFactory
from tests.questions.conftest import QuestionFactory

pytestmark = pytest.mark.django_db

API = reverse("questions_api")
SECRET_QUESTION = "How do we price the confidential Zephyr contract?"


def detail_url(question: Question) -> str:
    return reverse("question_api", args=[question.pk])


@pytest.fixture
def asked(asker):
    """An open question on Materials, one answered by a published story, one whose story is a draft."""
    materials = ThemeFactory(name="Materials")
    finance = ThemeFactory(name="Finance")
    proposed = ThemeFactory(name="Pump lore", is_approved=False)
    coating = StoryPageFactory(title="The coating that lasted", themes=[materials])
    draft = StoryPageFactory(title="Zephyr pricing, not yet reviewed", publish=False)
    questions = {
        "open": QuestionFactory(
            text="Which coating lasts on pumps?", asker=asker, themes=[materials, proposed]
        ),
        "answered": QuestionFactory(
            text="Has anyone tested ceramic coatings?",
            asker=asker,
            status=QuestionStatus.ANSWERED,
            answered_by=coating,
            answered_at=timezone.now(),
            themes=[materials],
        ),
        "draft": QuestionFactory(
            text=SECRET_QUESTION,
            asker=None,
            status=QuestionStatus.ANSWERED,
            answered_by=draft,
            answered_at=timezone.now(),
            themes=[finance],
        ),
        "closed": QuestionFactory(
            text="Where is the old kanban board?", asker=asker, status=QuestionStatus.CLOSED
        ),
    }
    oldest_first = ["open", "answered", "draft", "closed"]
    for days_ago, key in zip(range(len(oldest_first), 0, -1), oldest_first, strict=True):
        Question.objects.filter(pk=questions[key].pk).update(
            created_at=timezone.now() - datetime.timedelta(days=days_ago)
        )
    for question in questions.values():
        question.refresh_from_db()
    return questions


def texts(response) -> list[str]:
    return [item["text"] for item in response.json()["results"]]


@pytest.mark.parametrize("url", [lambda question: API, detail_url])
def test_anonymous_callers_are_refused_with_json_and_see_no_question(client, asked, url):
    response = client.get(url(asked["draft"]))

    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Sign in to see questions.", "login_url": "/accounts/login/"}
    assert "Zephyr" not in response.content.decode()


def test_a_signed_in_colleague_gets_every_question_newest_first_in_full(asker_client, asked):
    response = asker_client.get(API)

    assert response.status_code == 200
    payload = response.json()
    assert texts(response) == [
        "Where is the old kanban board?",
        SECRET_QUESTION,
        "Has anyone tested ceramic coatings?",
        "Which coating lasts on pumps?",
    ]
    assert {key: payload[key] for key in ("total", "page", "per_page", "page_count", "next", "previous")} == {
        "total": 4,
        "page": 1,
        "per_page": QUESTIONS_PER_PAGE,
        "page_count": 1,
        "next": None,
        "previous": None,
    }
    answered = asked["answered"]
    story = answered.answered_by
    assert payload["results"][2] == {
        "id": answered.pk,
        "text": "Has anyone tested ceramic coatings?",
        "status": "answered",
        "created_at": answered.created_at.isoformat(),
        "answered_at": answered.answered_at.isoformat(),
        "asker": "Lena Berg",
        "themes": [{"slug": "materials", "name": "Materials"}],
        "answered_by": {"id": story.pk, "title": "The coating that lasted", "url": story.url},
        "url": f"/questions/{answered.pk}/",
    }


def test_proposed_themes_are_not_listed_on_a_question(asker_client, asked):
    [item] = [item for item in asker_client.get(API).json()["results"] if item["id"] == asked["open"].pk]

    assert item["themes"] == [{"slug": "materials", "name": "Materials"}]
    assert item["answered_by"] is None


def test_a_story_in_draft_is_not_named_as_the_answer(asker_client, asked):
    """The question is listed (every colleague may see it), its unpublished story is not."""
    [item] = [item for item in asker_client.get(API).json()["results"] if item["id"] == asked["draft"].pk]

    assert item["status"] == "answered"
    assert item["asker"] == "A former colleague"
    assert item["answered_by"] is None
    assert "not yet reviewed" not in asker_client.get(API).content.decode()
    assert asker_client.get(detail_url(asked["draft"])).json()["answered_by"] is None


def test_a_staff_only_story_is_named_to_signed_in_colleagues(asker_client, asked):
    story = asked["answered"].answered_by
    story.visibility = Visibility.STAFF
    story.save_revision().publish()

    [item] = [item for item in asker_client.get(API).json()["results"] if item["id"] == asked["answered"].pk]

    assert item["answered_by"] == {"id": story.pk, "title": "The coating that lasted", "url": story.url}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "open"}, ["Which coating lasts on pumps?"]),
        ({"status": "answered"}, [SECRET_QUESTION, "Has anyone tested ceramic coatings?"]),
        ({"status": "closed"}, ["Where is the old kanban board?"]),
        ({"theme": "materials"}, ["Has anyone tested ceramic coatings?", "Which coating lasts on pumps?"]),
        ({"theme": "materials", "status": "open"}, ["Which coating lasts on pumps?"]),
        ({"theme": "finance", "status": "open"}, []),
    ],
)
def test_status_and_theme_narrow_the_list(asker_client, asked, params, expected):
    response = asker_client.get(API, params)

    assert response.status_code == 200
    assert texts(response) == expected
    assert response.json()["total"] == len(expected)
    assert response.json()["query"] == {"status": params.get("status", ""), "theme": params.get("theme", "")}


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"status": "solved"}, "The “status” parameter must be one of open, answered, closed."),
        ({"status": ["open", "closed"]}, "The “status” parameter was given 2 times; give it once."),
        ({"theme": "alchemy"}, "The “theme” parameter names no theme: “alchemy” is not one."),
        ({"theme": "pump-lore"}, "The “theme” parameter names no theme: “pump-lore” is not one."),
        (
            {"page": "two"},
            "The “page” parameter must be a whole number written with the digits 0-9, not “two”.",
        ),
        ({"page": "0"}, "The “page” parameter must be between 1 and 10000."),
    ],
)
def test_bad_parameters_are_a_400_that_says_why(asker_client, asked, params, error):
    response = asker_client.get(API, params)

    assert response.status_code == 400
    assert response.json() == {"error": error}


def test_pages_link_to_each_other_and_keep_the_filters(asker_client, asker):
    for number in range(QUESTIONS_PER_PAGE + 5):
        QuestionFactory(text=f"Open question {number:02d}?", asker=asker)

    first = asker_client.get(API, {"status": "open"}).json()
    second = asker_client.get(first["next"]).json()

    assert (first["total"], first["page_count"], len(first["results"])) == (25, 2, QUESTIONS_PER_PAGE)
    assert first["next"] == "/api/questions/?status=open&page=2"
    assert first["previous"] is None
    assert [item["text"] for item in second["results"]] == [
        f"Open question {n:02d}?" for n in range(4, -1, -1)
    ]
    assert second["next"] is None
    assert second["previous"] == "/api/questions/?status=open&page=1"
    assert asker_client.get(API, {"page": "9"}).json()["page"] == 2  # past the last: the last


def test_the_list_takes_as_many_queries_for_twenty_questions_as_for_two(
    asker_client, asker, django_assert_num_queries
):
    story = StoryPageFactory(title="The coating that lasted", themes=[ThemeFactory(name="Materials")])
    themes = list(story.themes.all())
    QuestionFactory.create_batch(
        2, asker=asker, status=QuestionStatus.ANSWERED, answered_by=story, themes=themes
    )
    asker_client.get(API)  # the session is read and cached once
    with CaptureQueriesContext(connection) as two:
        asker_client.get(API)
    for _ in range(18):  # each with an asker of its own
        QuestionFactory(asker=UserFactory(), status=QuestionStatus.ANSWERED, answered_by=story, themes=themes)

    with django_assert_num_queries(len(two)):
        assert len(asker_client.get(API).json()["results"]) == 20


def test_the_detail_holds_the_written_answers_oldest_first(asker_client, asked, colleague):
    question = asked["open"]
    first = Answer.objects.create(question=question, author=colleague, text="Ask the lab on floor 3.")
    second = Answer.objects.create(
        question=question, author=None, text="The ceramic one.", source=QuestionSource.EMAIL, accepted=True
    )

    response = asker_client.get(detail_url(question))

    assert response.status_code == 200
    payload = response.json()
    assert payload["text"] == "Which coating lasts on pumps?"
    assert payload["merged_into"] is None
    assert payload["answers"] == [
        {
            "id": first.pk,
            "text": "Ask the lab on floor 3.",
            "author": "Theo",
            "source": "web",
            "created_at": first.created_at.isoformat(),
            "accepted": False,
        },
        {
            "id": second.pk,
            "text": "The ceramic one.",
            "author": "A former colleague",
            "source": "email",
            "created_at": second.created_at.isoformat(),
            "accepted": True,
        },
    ]


def test_a_merged_question_points_to_the_one_it_was_merged_into(asker_client, asked):
    merged = QuestionFactory(
        text="Which pump coating lasts?", status=QuestionStatus.CLOSED, merged_into=asked["open"]
    )

    assert asker_client.get(detail_url(merged)).json()["merged_into"] == f"/questions/{asked['open'].pk}/"


def test_an_unknown_question_is_a_404_in_json(asker_client, asked):
    response = asker_client.get(reverse("question_api", args=[asked["closed"].pk + 100]))

    assert response.status_code == 404
    assert response.json() == {"error": "There is no question with this id."}
