"""Asking the library on the web: the preview, "this answers my question", and posting a question."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from questions.models import MAX_QUESTION_LENGTH, Question, QuestionRouting, QuestionStatus
from questions.notifications import route_again_when_meaning_ready
from search.backends import EMBEDDED
from search.sync import apply_pending_updates, embed_waiting_stories, meaning_indexed
from stories.models import HelpfulVote, StoryPage
from tests.factories import PersonFactory, StoryPageFactory
from tests.questions.conftest import CORROSION_QUESTION

pytestmark = pytest.mark.django_db

ASK = reverse("questions:ask")
POST = reverse("questions:post")
ANSWERED = reverse("questions:answered_by_suggestion")


def page_text(response) -> str:
    return response.content.decode()


def test_preview_shows_the_story_that_answers_and_the_people_who_know_with_evidence(
    asker_client, corrosion_library
):
    response = asker_client.get(ASK, {"q": CORROSION_QUESTION})

    assert response.status_code == 200
    html = page_text(response)
    results = response.context["suggestions"].search.results
    assert results[0].story.title == "Corrosion on the cooling pumps stopped with a coating"
    assert "Invoices approved in one day" not in html
    people = [candidate.person.name for candidate in response.context["people_who_know"]]
    assert people[0] == "Kim Lab"
    assert "Priya Shah" in people
    # Evidence: the role and the story, linked.
    assert re.search(
        r'Told <a href="/stories/[^"]+/">Corrosion on the cooling pumps stopped with a coating</a>', html
    )
    assert html.count(">This answers my question<span") == len(results)


def test_empty_preview_shows_the_form_without_complaint(asker_client, corrosion_library):
    response = asker_client.get(ASK)

    assert response.status_code == 200
    assert "Type your question first." not in page_text(response)
    assert "suggestions" not in response.context


def test_this_answers_my_question_keeps_it_answered_and_counts_a_helpful_vote(
    asker_client, asker, corrosion_library
):
    story = corrosion_library.pumps

    response = asker_client.post(ANSWERED, {"q": CORROSION_QUESTION, "story": story.pk})

    question = Question.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/questions/{question.pk}/"
    assert question.status == QuestionStatus.ANSWERED
    assert question.answered_by_id == story.pk
    assert question.answered_at is not None
    assert question.asker == asker
    assert HelpfulVote.objects.filter(story=story, user=asker).count() == 1
    assert StoryPage.objects.get(pk=story.pk).helpful_count == 1
    assert QuestionRouting.objects.count() == 0
    assert mail.outbox == []
    page = asker_client.get(response["Location"])
    assert re.search(r'Answered by <a href="/stories/[^"]+/">Corrosion on the cooling pumps', page_text(page))


def test_this_answers_my_question_never_takes_back_an_earlier_vote(asker_client, asker, corrosion_library):
    story = corrosion_library.pumps
    HelpfulVote.objects.create(story=story, user=asker)

    asker_client.post(ANSWERED, {"q": CORROSION_QUESTION, "story": story.pk})

    assert HelpfulVote.objects.filter(story=story, user=asker).count() == 1


def test_this_answers_my_question_refuses_a_draft(asker_client, asker, corrosion_library):
    draft = StoryPageFactory(title="Corrosion notes in progress", publish=False, owner=asker)

    response = asker_client.post(ANSWERED, {"q": CORROSION_QUESTION, "story": draft.pk})

    assert response.status_code == 400
    assert "That story is not one you can read any more." in page_text(response)
    assert Question.objects.count() == 0


def test_posting_routes_to_at_most_the_setting_never_the_asker_one_email_each(
    asker_client, asker, corrosion_library, settings
):
    settings.QUESTIONS_ROUTE_TO = 2

    response = asker_client.post(POST, {"q": CORROSION_QUESTION})

    question = Question.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/questions/{question.pk}/"
    assert question.status == QuestionStatus.OPEN
    routed = list(question.routings.order_by("person__name").values_list("person__name", "notified"))
    # Lena told the second story and would rank second; she is the asker, so she is never asked.
    assert routed == [("Kim Lab", True), ("Priya Shah", True)]
    assert sorted(message.to[0] for message in mail.outbox) == ["kim@example.org", "priya@example.org"]
    link = f"https://stories.example.org/questions/{question.pk}/"
    for message in mail.outbox:
        assert message.subject == "Lena asks: Who knows how to stop corrosion on the cooling pumps?"
        assert link in message.body
        assert CORROSION_QUESTION in message.body
        html, mimetype = message.alternatives[0]
        assert mimetype == "text/html"
        assert f'href="{link}"' in html
    kim_mail = next(message for message in mail.outbox if message.to == ["kim@example.org"])
    assert "you told “Corrosion on the cooling pumps stopped with a coating”" in kim_mail.body
    priya_mail = next(message for message in mail.outbox if message.to == ["priya@example.org"])
    assert "you helped in “Corrosion on the cooling pumps stopped with a coating”" in priya_mail.body


def test_posting_fills_the_themes_from_the_top_results_approved_only(asker_client, corrosion_library):
    asker_client.post(POST, {"q": CORROSION_QUESTION})

    themes = set(Question.objects.get().themes.values_list("name", flat=True))
    assert themes == {"Materials", "Expertise"}


def test_the_asker_is_recognised_by_their_linked_person_too(asker_client, asker, corrosion_library, settings):
    settings.QUESTIONS_ROUTE_TO = 5
    corrosion_library.lena_person.email = None
    corrosion_library.lena_person.user = asker
    corrosion_library.lena_person.save()

    asker_client.post(POST, {"q": CORROSION_QUESTION})

    routed = set(QuestionRouting.objects.values_list("person__name", flat=True))
    assert routed == {"Kim Lab", "Priya Shah", "Omar Field"}
    assert "lena@example.org" not in [address for message in mail.outbox for address in message.to]


def test_a_routed_person_without_an_address_is_routed_but_not_mailed(
    asker_client, corrosion_library, settings
):
    settings.QUESTIONS_ROUTE_TO = 1
    corrosion_library.kim.email = None
    corrosion_library.kim.save()

    asker_client.post(POST, {"q": CORROSION_QUESTION})

    assert list(QuestionRouting.objects.values_list("person__name", "notified")) == [("Kim Lab", False)]
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "Type your question first."),
        ("   ", "Type your question first."),
        (
            "x" * (MAX_QUESTION_LENGTH + 1),
            f"Keep your question under {MAX_QUESTION_LENGTH} characters (it has 501)",
        ),
    ],
)
def test_posting_bad_input_shows_the_form_again_with_the_reason(
    asker_client, corrosion_library, text, reason
):
    response = asker_client.post(POST, {"q": text})

    assert response.status_code == 400
    assert reason in page_text(response)
    assert 'name="q"' in page_text(response)
    assert Question.objects.count() == 0
    assert mail.outbox == []


def test_a_too_long_preview_is_refused_with_the_reason(asker_client, corrosion_library):
    response = asker_client.get(ASK, {"q": "y" * (MAX_QUESTION_LENGTH + 1)})

    assert response.status_code == 400
    assert f"Keep your question under {MAX_QUESTION_LENGTH} characters" in page_text(response)


def test_the_one_click_answer_needs_the_question_too(asker_client, corrosion_library):
    response = asker_client.post(ANSWERED, {"q": "", "story": corrosion_library.pumps.pk})

    assert response.status_code == 400
    assert "Type your question first." in page_text(response)
    assert Question.objects.count() == 0


def test_a_question_of_the_longest_allowed_length_is_searched(asker_client, corrosion_library):
    text = ("corrosion pumps cooling " * 25)[:MAX_QUESTION_LENGTH]

    response = asker_client.get(ASK, {"q": text})

    assert response.status_code == 200
    assert response.context["suggestions"].search.results[0].story.pk == corrosion_library.pumps.pk


def test_a_question_posted_before_the_stories_are_embedded_is_routed_again_once_they_are(
    asker_client, asker, meaning_search, settings
):
    """The first minute after a fresh setup: words alone find nobody for "rusting"; meaning does."""
    settings.ELASTICSEARCH_URL = None
    settings.STORYBANK_SEARCH_BACKEND = EMBEDDED
    settings.WAGTAILADMIN_BASE_URL = "https://stories.example.org"
    chemist = PersonFactory(name="Chris Chemist", slug="chris-chemist", email="chris@example.org")
    StoryPageFactory(
        title="The expert on corrosion was two floors up",
        aha="A chemist in the lab knew which coating stops salt water eating the pump housings.",
        teller=chemist,
    )
    StoryPageFactory(
        title="Invoices approved in one day",
        aha="Finance moved approvals into a shared queue instead of passing paper around.",
        teller=PersonFactory(name="Fiona Finance", slug="fiona-finance", email="fiona@example.org"),
    )
    apply_pending_updates(wait=True)  # on words; the stories' vectors still wait for the worker
    assert not meaning_indexed()

    asker_client.post(POST, {"q": "Who can help with equipment rusting?"})

    question = Question.objects.get()
    assert question.routed_before_meaning
    assert question.routings.count() == 0
    assert route_again_when_meaning_ready() == 0  # nothing changes while stories wait
    assert question.routings.count() == 0

    while embed_waiting_stories():
        pass
    apply_pending_updates(wait=True)
    assert route_again_when_meaning_ready() == 1

    question.refresh_from_db()
    assert not question.routed_before_meaning
    assert list(question.routings.values_list("person__name", "notified")) == [("Chris Chemist", True)]
    assert [message.to for message in mail.outbox] == [["chris@example.org"]]
    assert "you told “The expert on corrosion was two floors up”" in mail.outbox[0].body
    assert route_again_when_meaning_ready() == 0  # routed again once, never twice


def test_routing_again_tops_up_to_the_setting_and_never_asks_anyone_twice(
    asker_client, asker, corrosion_library, settings
):
    settings.QUESTIONS_ROUTE_TO = 2
    asker_client.post(POST, {"q": CORROSION_QUESTION})
    question = Question.objects.get()
    assert question.routings.count() == 2
    Question.objects.filter(pk=question.pk).update(routed_before_meaning=True)
    mail.outbox.clear()

    assert route_again_when_meaning_ready() == 0

    assert question.routings.count() == 2
    assert mail.outbox == []
    settings.QUESTIONS_ROUTE_TO = 3
    Question.objects.filter(pk=question.pk).update(routed_before_meaning=True)
    assert route_again_when_meaning_ready() == 1
    assert sorted(question.routings.values_list("person__name", flat=True)) == [
        "Kim Lab",
        "Omar Field",
        "Priya Shah",
    ]
    assert [message.to for message in mail.outbox] == [["omar@example.org"]]


def test_a_question_closed_meanwhile_is_not_routed_again(asker_client, corrosion_library, settings):
    settings.QUESTIONS_ROUTE_TO = 1
    asker_client.post(POST, {"q": CORROSION_QUESTION})
    question = Question.objects.get()
    Question.objects.filter(pk=question.pk).update(routed_before_meaning=True, status=QuestionStatus.CLOSED)
    settings.QUESTIONS_ROUTE_TO = 3

    assert route_again_when_meaning_ready() == 0

    assert question.routings.count() == 1
    assert not Question.objects.get(pk=question.pk).routed_before_meaning
