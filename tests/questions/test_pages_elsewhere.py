"""What questions add to other apps' pages: the story page and My stories."""

from __future__ import annotations

import pytest
from django.urls import reverse

from questions.models import QuestionRouting, QuestionStatus
from tests.factories import StoryPageFactory, UserFactory
from tests.questions.conftest import CORROSION_QUESTION, QuestionFactory

pytestmark = pytest.mark.django_db

ANSWERED_QUESTION = "Has anyone stopped corrosion on the cooling pumps for good?"


@pytest.fixture
def answered(asker):
    story = StoryPageFactory(title="The coating that lasted")
    question = QuestionFactory(
        text=ANSWERED_QUESTION, asker=asker, status=QuestionStatus.ANSWERED, answered_by=story
    )
    return story, question


def test_the_story_page_lists_the_questions_it_answered_to_signed_in_readers(asker_client, answered):
    story, question = answered
    QuestionFactory(text="A question still open about the coating?", asker=question.asker)

    html = asker_client.get(story.url).content.decode()

    assert "Questions this story answered" in html
    assert f'<a href="/questions/{question.pk}/">{ANSWERED_QUESTION}</a>' in html
    assert "A question still open about the coating?" not in html


def test_the_story_page_shows_no_question_to_anonymous_readers(client, answered):
    story, _question = answered

    html = client.get(story.url).content.decode()

    assert client.get(story.url).status_code == 200
    assert "Questions this story answered" not in html
    assert ANSWERED_QUESTION not in html


def test_a_story_that_answered_nothing_shows_no_section(asker_client):
    story = StoryPageFactory(title="Unasked")

    assert "Questions this story answered" not in asker_client.get(story.url).content.decode()


@pytest.fixture
def routed_to_kim(asker, corrosion_library):
    question = QuestionFactory(text=CORROSION_QUESTION, asker=asker)
    QuestionRouting.objects.create(question=question, person=corrosion_library.kim)
    answered_one = QuestionFactory(
        text="An answered question routed to Kim?", asker=asker, status=QuestionStatus.ANSWERED
    )
    QuestionRouting.objects.create(question=answered_one, person=corrosion_library.kim)
    return question


def test_my_stories_shows_the_routed_person_their_open_questions(client, routed_to_kim):
    # Kim's account is matched to her directory entry by its e-mail address.
    client.force_login(UserFactory(username="kim", email="KIM@example.org"))

    html = client.get("/share/mine/").content.decode()

    assert "Questions for you" in html
    assert (
        f'<strong>Lena Berg asks:</strong> <a href="/questions/{routed_to_kim.pk}/">{CORROSION_QUESTION}</a>'
        in html
    )
    assert f'href="/questions/{routed_to_kim.pk}/">Point to a story' in html
    assert f'href="{reverse("questions:tell", args=[routed_to_kim.pk])}">Tell the story' in html
    assert "An answered question routed to Kim?" not in html


def test_my_stories_shows_no_questions_to_someone_they_were_not_routed_to(client, routed_to_kim, colleague):
    client.force_login(colleague)

    html = client.get("/share/mine/").content.decode()

    assert "Questions for you" not in html
    assert CORROSION_QUESTION not in html


def test_a_linked_account_sees_the_questions_routed_to_its_person(client, routed_to_kim, corrosion_library):
    user = UserFactory(username="kim-account", email="")
    corrosion_library.kim.user = user
    corrosion_library.kim.save()
    client.force_login(user)

    assert CORROSION_QUESTION in client.get("/share/mine/").content.decode()
