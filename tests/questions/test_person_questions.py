"""A person's page lists the questions they answered, with a story or an accepted written answer."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from questions.models import Answer, Question, QuestionRouting, QuestionStatus
from questions.sections import questions_this_person_answered
from stories.models import Person, Visibility
from stories.sections import provide_section
from tests.factories import PersonFactory, StoryPageFactory, UserFactory
from tests.questions.conftest import QuestionFactory
from tests.stories.story_helpers import days_ago

pytestmark = pytest.mark.django_db

HEADING = 'id="questions-answered-heading"'


@dataclass
class KimsAnswers:
    kim: Person
    by_told_story: Question
    by_helped_story: Question
    by_answer_from_her_address: Question
    by_answer_from_her_linked_account: Question
    by_staff_only_story: Question
    by_draft_story: Question


def answered(text: str, days: int, **fields) -> Question:
    return QuestionFactory(text=text, status=QuestionStatus.ANSWERED, answered_at=days_ago(days), **fields)


def answered_in_writing(text: str, days: int, author, *, accepted: bool = True) -> Question:
    question = answered(text, days) if accepted else QuestionFactory(text=text)
    Answer.objects.create(
        question=question, author=author, text="Ask the lab for the ceramic coating.", accepted=accepted
    )
    return question


@pytest.fixture
def kims_answers(db) -> KimsAnswers:
    """Kim told one story and helped in another; she answers from her e-mail address and her linked account."""
    kim = PersonFactory(name="Kim Lab", slug="kim-lab", email="kim@example.org")
    kim.user = UserFactory(username="kim-linked", email="")
    kim.save()
    from_her_address = UserFactory(username="kim", email="KIM@example.org")
    told = StoryPageFactory(title="The coating that lasted", teller=kim)
    helped = StoryPageFactory(title="Pumps kept cool", people=[kim])
    staff_only = StoryPageFactory(title="Inside the staff lab", teller=kim, visibility=Visibility.STAFF)
    draft = StoryPageFactory(title="A draft about pumps", teller=kim, publish=False)
    someone_elses = StoryPageFactory(title="Somebody else's coating")
    somebody = UserFactory(username="someone")

    library = KimsAnswers(
        kim=kim,
        by_told_story=answered("Which coating lasts on cooling pumps?", 4, answered_by=told),
        by_helped_story=answered("How do we keep the pumps cool?", 3, answered_by=helped),
        by_answer_from_her_address=answered_in_writing(
            "Who has tried ceramic coatings?", 2, from_her_address
        ),
        by_answer_from_her_linked_account=answered_in_writing(
            "Where are the old coating samples?", 1, kim.user
        ),
        by_staff_only_story=answered("What does the staff lab keep?", 5, answered_by=staff_only),
        by_draft_story=answered("Has anyone written up the pump drafts?", 6, answered_by=draft),
    )
    # Not Kim's answers: another teller's story, an answer not accepted, someone else's accepted
    # answer, a question she was only routed, and a closed question that once pointed at her story.
    answered("Which coating did somebody else use?", 1, answered_by=someone_elses)
    answered_in_writing("Is there a coating for salt water?", 1, from_her_address, accepted=False)
    answered_in_writing("Who knows the pump supplier?", 1, somebody)
    routed = QuestionFactory(text="Who can explain pump corrosion?")
    QuestionRouting.objects.create(question=routed, person=kim)
    QuestionFactory(
        text="A closed question about the coating?", status=QuestionStatus.CLOSED, answered_by=told
    )
    return library


def listed_questions(html: str) -> list[tuple[str, str]]:
    """(question link, how it was answered) for each row of the "Questions answered" section."""
    section = html.split(HEADING)[1].split("</section>")[0]
    return [
        (" ".join(question.split()), " ".join(how.split()))
        for question, how in re.findall(
            r"<li>\s*(<a [^>]*>[^<]*</a>)\s*<span[^>]*>(.*?)</span>", section, re.S
        )
    ]


def colleague_client() -> Client:
    browser = Client()
    browser.force_login(UserFactory(username="theo"))
    return browser


def queries_on_second_visit(browser: Client, path: str) -> int:
    assert browser.get(path).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(path).status_code == 200
    return len(queries)


@pytest.fixture
def without_the_section():
    """The person page as it is with no questions app plugged in; registered again afterwards."""
    provide_section("person_page", "questions_answered", None)
    yield
    provide_section("person_page", "questions_answered", questions_this_person_answered)


def test_a_signed_in_colleague_sees_the_questions_the_person_answered_newest_first(kims_answers):
    html = colleague_client().get("/people/kim-lab/").content.decode()

    story_urls = {
        question.pk: question.answered_by.url
        for question in (
            kims_answers.by_helped_story,
            kims_answers.by_told_story,
            kims_answers.by_staff_only_story,
        )
    }
    assert listed_questions(html) == [
        (
            f'<a href="/questions/{kims_answers.by_answer_from_her_linked_account.pk}/">Where are the old coating samples?</a>',
            "by Kim Lab’s written answer",
        ),
        (
            f'<a href="/questions/{kims_answers.by_answer_from_her_address.pk}/">Who has tried ceramic coatings?</a>',
            "by Kim Lab’s written answer",
        ),
        (
            f'<a href="/questions/{kims_answers.by_helped_story.pk}/">How do we keep the pumps cool?</a>',
            f'by <a href="{story_urls[kims_answers.by_helped_story.pk]}">Pumps kept cool</a>',
        ),
        (
            f'<a href="/questions/{kims_answers.by_told_story.pk}/">Which coating lasts on cooling pumps?</a>',
            f'by <a href="{story_urls[kims_answers.by_told_story.pk]}">The coating that lasted</a>',
        ),
        (
            f'<a href="/questions/{kims_answers.by_staff_only_story.pk}/">What does the staff lab keep?</a>',
            f'by <a href="{story_urls[kims_answers.by_staff_only_story.pk]}">Inside the staff lab</a>',
        ),
    ]
    assert 'Questions answered <span class="count-pill">5</span>' in html


def test_a_question_answered_by_a_draft_is_not_listed_nor_the_draft_named(kims_answers):
    html = colleague_client().get("/people/kim-lab/").content.decode()

    assert "Has anyone written up the pump drafts?" not in html
    assert "A draft about pumps" not in html


def test_a_question_answered_by_a_story_that_was_unpublished_leaves_the_list(kims_answers):
    kims_answers.by_told_story.answered_by.unpublish()

    html = colleague_client().get("/people/kim-lab/").content.decode()

    assert "Which coating lasts on cooling pumps?" not in html
    assert "The coating that lasted" not in html
    assert 'Questions answered <span class="count-pill">4</span>' in html


def test_an_anonymous_reader_sees_no_question_on_the_person_page(client, kims_answers):
    response = client.get("/people/kim-lab/")
    html = response.content.decode()

    assert response.status_code == 200
    assert "The coating that lasted" in html  # the page itself is there
    assert "Questions answered" not in html
    assert "/questions/" not in html
    assert "Inside the staff lab" not in html


def test_the_section_costs_an_anonymous_reader_no_query(client, kims_answers, request):
    with_section = queries_on_second_visit(client, "/people/kim-lab/")
    request.getfixturevalue("without_the_section")

    assert queries_on_second_visit(client, "/people/kim-lab/") == with_section


def test_the_section_costs_a_signed_in_reader_one_query(kims_answers, request):
    browser = colleague_client()
    with_section = queries_on_second_visit(browser, "/people/kim-lab/")
    request.getfixturevalue("without_the_section")

    assert queries_on_second_visit(browser, "/people/kim-lab/") == with_section - 1


def test_someone_who_answered_nothing_gets_no_section(kims_answers):
    grace = PersonFactory(name="Grace Field", slug="grace-field")
    StoryPageFactory(title="Unasked", teller=grace)

    html = colleague_client().get("/people/grace-field/").content.decode()

    assert "Unasked" in html
    assert "Questions answered" not in html
