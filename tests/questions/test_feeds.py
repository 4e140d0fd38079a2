"""Personal Atom feeds of answered questions: a signed key names the reader, who sees what they may see."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ElementTree

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from questions.feeds import FEED_KEY_SALT, answered_feed_url, feed_key
from questions.models import Answer, FeedAddress, Question, QuestionStatus
from questions.signed_links import DIGEST_OPT_OUT
from stories.models import Theme
from tests.factories import StoryPageFactory, ThemeFactory, UserFactory
from tests.questions.conftest import QuestionFactory

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def answered(asker, colleague):
    """Answered questions on Materials and Finance (one by a draft, one by a written answer), and an open one."""
    materials = ThemeFactory(name="Materials")
    finance = ThemeFactory(name="Finance")
    coating = StoryPageFactory(title="The coating that lasted", themes=[materials])
    draft = StoryPageFactory(title="Zephyr pricing, not yet reviewed", publish=False)
    questions = {
        "coating": QuestionFactory(
            text="Has anyone tested ceramic coatings?",
            asker=asker,
            status=QuestionStatus.ANSWERED,
            answered_by=coating,
            themes=[materials],
        ),
        "pricing": QuestionFactory(
            text="How do we price the Zephyr contract?",
            asker=colleague,
            status=QuestionStatus.ANSWERED,
            answered_by=draft,
            themes=[finance],
        ),
        "written": QuestionFactory(
            text="Who keeps the pump spare parts?",
            asker=asker,
            status=QuestionStatus.ANSWERED,
            themes=[materials],
        ),
        "open": QuestionFactory(text="Which coating lasts on pumps?", asker=asker, themes=[materials]),
    }
    Answer.objects.create(question=questions["written"], author=colleague, text="Not accepted: ask stores.")
    Answer.objects.create(
        question=questions["written"], author=colleague, text="Omar, in hall 2.", accepted=True
    )
    now = timezone.now()
    for days_ago, key in ((3, "coating"), (2, "pricing"), (1, "written")):
        Question.objects.filter(pk=questions[key].pk).update(
            answered_at=now - datetime.timedelta(days=days_ago)
        )
    return questions


def entries(response) -> list[dict]:
    feed = ElementTree.fromstring(response.content)
    return [
        {
            "title": entry.findtext(f"{ATOM}title"),
            "summary": entry.findtext(f"{ATOM}summary"),
            "link": entry.find(f"{ATOM}link").get("href"),
            "author": entry.findtext(f"{ATOM}author/{ATOM}name"),
            "categories": [category.get("term") for category in entry.findall(f"{ATOM}category")],
        }
        for entry in feed.findall(f"{ATOM}entry")
    ]


def test_the_feed_lists_answered_questions_newest_answer_first_with_their_answers(client, asker, answered):
    response = client.get(answered_feed_url(asker))  # a feed reader: no session

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    assert response["Cache-Control"] == "private, max-age=300"
    assert (
        ElementTree.fromstring(response.content).findtext(f"{ATOM}title") == "Storybank: answered questions"
    )
    pk = {key: question.pk for key, question in answered.items()}
    assert entries(response) == [
        {
            "title": "Who keeps the pump spare parts?",
            "summary": "Who keeps the pump spare parts?\n\nTheo answered: Omar, in hall 2.",
            "link": f"http://testserver/questions/{pk['written']}/",
            "author": "Lena Berg",
            "categories": ["Materials"],
        },
        {
            "title": "How do we price the Zephyr contract?",
            "summary": "How do we price the Zephyr contract?",
            "link": f"http://testserver/questions/{pk['pricing']}/",
            "author": "Theo",
            "categories": ["Finance"],
        },
        {
            "title": "Has anyone tested ceramic coatings?",
            "summary": "Has anyone tested ceramic coatings?\n\nAnswered by the story “The coating that lasted”.",
            "link": f"http://testserver/questions/{pk['coating']}/",
            "author": "Lena Berg",
            "categories": ["Materials"],
        },
    ]
    assert "not yet reviewed" not in response.content.decode()  # a draft answers nothing in a feed


def test_a_theme_feed_lists_only_that_themes_answered_questions(client, asker, answered):
    materials = answered["coating"].themes.get()

    response = client.get(answered_feed_url(asker, materials))

    assert response.status_code == 200
    feed = ElementTree.fromstring(response.content)
    assert feed.findtext(f"{ATOM}title") == "Storybank: answered questions about Materials"
    assert [entry["title"] for entry in entries(response)] == [
        "Who keeps the pump spare parts?",
        "Has anyone tested ceramic coatings?",
    ]


def test_an_unknown_or_proposed_theme_is_a_404(client, asker, answered):
    ThemeFactory(name="Pump lore", is_approved=False)
    for slug in ("alchemy", "pump-lore"):
        response = client.get(reverse("question_feeds:answered_theme", args=[feed_key(asker), slug]))
        assert response.status_code == 404


def test_a_key_we_did_not_sign_for_this_feed_opens_nothing(client, asker, answered):
    key = feed_key(asker)
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    not_a_user = signing.Signer(salt=FEED_KEY_SALT).sign("lena")
    digest_token = DIGEST_OPT_OUT.token(asker.pk)  # signed for the same user, for another purpose
    unsalted = signing.Signer().sign(str(asker.pk))

    for changed in (tampered, not_a_user, digest_token, unsalted, str(asker.pk), "not-a-key"):
        response = client.get(reverse("question_feeds:answered", args=[changed]))
        assert response.status_code == 404
        assert "ceramic" not in response.content.decode()


def test_the_key_of_an_inactive_or_deleted_account_opens_nothing(client, answered):
    leaver = UserFactory(username="leaver")
    url = answered_feed_url(leaver)
    assert client.get(url).status_code == 200

    leaver.is_active = False
    leaver.save()
    assert client.get(url).status_code == 404

    leaver.delete()
    assert client.get(url).status_code == 404


def test_the_board_links_the_readers_own_feed_with_the_chosen_theme(asker_client, asker, colleague, answered):
    materials = answered["coating"].themes.get()
    board = reverse("questions:board")

    everything = asker_client.get(board).content.decode()
    about_materials = asker_client.get(board, {"theme": "materials"}).content.decode()

    assert (
        f'<a href="{answered_feed_url(asker)}" type="application/atom+xml">Feed of answered questions</a>'
        in (everything)
    )
    assert (
        f'<a href="{answered_feed_url(asker, materials)}" type="application/atom+xml">'
        "Feed of answered questions about Materials</a>"
    ) in about_materials
    assert feed_key(colleague) not in everything  # each reader is shown their own key only
    assert asker_client.get(answered_feed_url(asker, materials)).status_code == 200


def test_a_reader_who_changes_their_feed_address_closes_every_old_one(asker_client, asker, answered):
    old_all, old_theme = (
        answered_feed_url(asker),
        answered_feed_url(asker, Theme.objects.get(name="Materials")),
    )
    assert asker_client.get(old_all).status_code == 200

    response = asker_client.post(reverse("questions:new_feed_address"), follow=True)

    assert response.redirect_chain == [(reverse("questions:board"), 302)]
    assert "Your feed addresses changed" in response.content.decode()
    new_all = answered_feed_url(asker)
    assert new_all != old_all
    assert f'href="{new_all}"' in response.content.decode()
    for old in (old_all, old_theme):
        assert Client().get(old).status_code == 404
    assert Client().get(new_all).status_code == 200
    asker_client.post(reverse("questions:new_feed_address"))
    assert Client().get(new_all).status_code == 404  # each change closes the address before it


def test_changing_the_feed_address_needs_a_signed_in_post(asker_client, asker):
    url = reverse("questions:new_feed_address")
    anonymous = Client().post(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))
    assert asker_client.get(url).status_code == 405
    assert not FeedAddress.objects.filter(user=asker).exists()


def test_a_key_naming_a_version_never_issued_opens_nothing(client, asker, answered):
    forged = signing.Signer(salt=FEED_KEY_SALT).sign(f"{asker.pk}.7")  # as if signed, never given out
    assert client.get(reverse("question_feeds:answered", args=[forged])).status_code == 404
