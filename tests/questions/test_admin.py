"""Questions in the Wagtail admin: the editors' listing and filters, correcting, merging, closing, the dashboard."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from questions.asking import question_embedding
from questions.curation import CurationRefused, close_question_by_editor, merge_question
from questions.models import Answer, Question, QuestionRouting, QuestionSource, QuestionStatus, StoryInAnswer
from stories.visibility import Visibility
from tests.factories import (
    PersonFactory,
    StoryPageFactory,
    ThemeFactory,
    UserFactory,
    make_editor,
    make_storyteller,
)
from tests.questions.conftest import QuestionFactory

pytestmark = pytest.mark.django_db

LISTING = reverse("questions_admin:index")
HOME = reverse("wagtailadmin_home")


def edit_url(question: Question) -> str:
    return reverse("questions_admin:edit", args=[question.pk])


def merge_url(question: Question) -> str:
    return reverse("questions_admin:merge", args=[question.pk])


def close_url(question: Question) -> str:
    return reverse("questions_admin:close", args=[question.pk])


def asked_days_ago(question: Question, days: int) -> Question:
    Question.objects.filter(pk=question.pk).update(created_at=timezone.now() - datetime.timedelta(days=days))
    question.refresh_from_db()
    return question


def listed(response) -> list[str]:
    return [question.text for question in response.context["object_list"]]


def messages_of(response) -> list[str]:
    return [str(message.message).strip() for message in response.context["messages"]]


@pytest.fixture
def editor_client(client):
    client.force_login(make_editor())
    return client


@pytest.fixture
def desk(asker):
    """Four questions: two open (one overdue, by e-mail, routed to Kim), one answered, one closed."""
    kim = PersonFactory(name="Kim Lab")
    priya = PersonFactory(name="Priya Shah")
    story = StoryPageFactory(title="The coating that lasted")
    pumps = asked_days_ago(
        QuestionFactory(
            text="Which coating lasts on the cooling pumps?", asker=asker, source=QuestionSource.EMAIL
        ),
        10,
    )
    budget = asked_days_ago(QuestionFactory(text="Who approves the travel budget?"), 2)
    answered = asked_days_ago(
        QuestionFactory(
            text="Has anyone tested ceramic coatings?", status=QuestionStatus.ANSWERED, answered_by=story
        ),
        30,
    )
    closed = asked_days_ago(QuestionFactory(text="Where is the old wiki?", status=QuestionStatus.CLOSED), 20)
    QuestionRouting.objects.create(question=pumps, person=kim)
    QuestionRouting.objects.create(question=pumps, person=priya)
    QuestionRouting.objects.create(question=answered, person=kim)
    return {
        "pumps": pumps,
        "budget": budget,
        "answered": answered,
        "closed": closed,
        "kim": kim,
        "priya": priya,
    }


# The listing and its filters


def test_editor_lists_questions_with_asker_status_routing_and_answer(editor_client, desk):
    response = editor_client.get(LISTING)

    html = response.content.decode()
    assert response.status_code == 200
    assert listed(response) == [
        "Who approves the travel budget?",
        "Which coating lasts on the cooling pumps?",
        "Where is the old wiki?",
        "Has anyone tested ceramic coatings?",
    ]
    assert "Lena Berg" in html
    assert "Kim Lab, Priya Shah" in html
    assert "The coating that lasted" in html
    assert f'href="{edit_url(desk["pumps"])}"' in html
    assert f'href="{merge_url(desk["pumps"])}"' in html
    assert f'href="{close_url(desk["pumps"])}"' in html
    assert f'href="{close_url(desk["answered"])}"' not in html  # only open questions close


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            {"status": "open"},
            ["Who approves the travel budget?", "Which coating lasts on the cooling pumps?"],
        ),
        ({"status": "answered"}, ["Has anyone tested ceramic coatings?"]),
        ({"status": "closed"}, ["Where is the old wiki?"]),
        ({"overdue": "true"}, ["Which coating lasts on the cooling pumps?"]),
        (
            {"overdue": "false"},
            [
                "Who approves the travel budget?",
                "Where is the old wiki?",
                "Has anyone tested ceramic coatings?",
            ],
        ),
        ({"source": "email"}, ["Which coating lasts on the cooling pumps?"]),
        (
            {"q": "coating"},
            ["Which coating lasts on the cooling pumps?", "Has anyone tested ceramic coatings?"],
        ),
    ],
)
def test_listing_filters_give_exactly_the_matching_questions(editor_client, desk, query, expected):
    assert listed(editor_client.get(LISTING, query)) == expected


def test_routed_to_filter_lists_the_questions_sent_to_that_person(editor_client, desk):
    kim = listed(editor_client.get(LISTING, {"routed_to": desk["kim"].pk}))
    priya = listed(editor_client.get(LISTING, {"routed_to": desk["priya"].pk}))

    assert kim == ["Which coating lasts on the cooling pumps?", "Has anyone tested ceramic coatings?"]
    assert priya == ["Which coating lasts on the cooling pumps?"]


def test_a_merged_question_is_listed_as_closed_naming_its_target(editor_client, desk):
    merge_question(desk["budget"], desk["pumps"], by=make_editor("ed"))

    html = editor_client.get(LISTING, {"status": "closed"}).content.decode()

    assert "Closed: merged into “Which coating lasts on the cooling pumps?”" in html


def test_an_accepted_written_answer_shows_who_answered(editor_client, desk, colleague):
    Question.objects.filter(pk=desk["budget"].pk).update(status=QuestionStatus.ANSWERED)
    Answer.objects.create(question=desk["budget"], author=colleague, text="Your manager does.", accepted=True)

    html = editor_client.get(LISTING, {"status": "answered"}).content.decode()

    assert "Answer by Theo" in html


def test_listing_queries_do_not_grow_with_its_rows(editor_client, desk, colleague):
    editor_client.get(LISTING)  # the first request of a session does a few things once
    with CaptureQueriesContext(connection) as four_rows:
        editor_client.get(LISTING)
    for number in range(3):
        question = QuestionFactory(text=f"Another question {number}?", status=QuestionStatus.ANSWERED)
        QuestionRouting.objects.create(question=question, person=PersonFactory())
        Answer.objects.create(question=question, author=colleague, text="This.", accepted=True)
    merge_question(QuestionFactory(text="A repeat?"), desk["pumps"], by=make_editor("ed"))

    with CaptureQueriesContext(connection) as eight_rows:
        response = editor_client.get(LISTING)

    assert len(listed(response)) == 8
    assert len(eight_rows) == len(four_rows)


# Who may use it


def test_storyteller_may_not_list_edit_merge_or_close_questions(client, desk):
    client.force_login(make_storyteller())
    question = desk["budget"]

    responses = [
        client.get(LISTING),
        client.get(edit_url(question)),
        client.get(merge_url(question)),
        client.post(merge_url(question), {"into": desk["pumps"].pk}),
        client.get(close_url(question)),
        client.post(close_url(question)),
    ]

    # Wagtail answers a refused admin request by sending the user to the dashboard, saying so.
    assert [(response.status_code, response["Location"]) for response in responses] == [(302, HOME)] * 6
    question.refresh_from_db()
    assert question.status == QuestionStatus.OPEN and question.merged_into is None


def test_storyteller_is_told_the_questions_are_not_theirs(client, desk):
    client.force_login(make_storyteller())

    response = client.get(LISTING, follow=True)

    assert "Sorry, you do not have permission to access this area." in messages_of(response)
    assert LISTING not in response.content.decode()  # nor is the menu item there


def test_editor_sees_the_questions_menu_item(editor_client, desk):
    assert LISTING in editor_client.get(HOME).content.decode()


def test_colleague_without_admin_access_is_sent_to_the_admin_login(client, desk, colleague):
    client.force_login(colleague)

    response = client.get(LISTING)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("wagtailadmin_login"))


def test_anonymous_visitor_is_sent_to_the_admin_login(client, desk):
    response = client.post(close_url(desk["budget"]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("wagtailadmin_login"))
    assert Question.objects.get(pk=desk["budget"].pk).is_open


# Editing


def test_edit_form_offers_the_words_status_and_themes_only(editor_client, desk):
    ThemeFactory(name="Travel")

    response = editor_client.get(edit_url(desk["budget"]))

    form = response.context["form"]
    assert response.status_code == 200
    assert list(form.fields) == ["text", "status", "themes"]
    assert [theme.name for theme in form.fields["themes"].queryset] == ["Travel"]


def test_editor_corrects_the_words_and_themes(editor_client, desk):
    travel = ThemeFactory(name="Travel")
    question = desk["budget"]

    response = editor_client.post(
        edit_url(question), {"text": "Who approves travel budgets?", "status": "open", "themes": [travel.pk]}
    )

    question.refresh_from_db()
    assert response.status_code == 302
    assert question.text == "Who approves travel budgets?"
    assert list(question.themes.all()) == [travel]
    assert question.visibility == Visibility.STAFF


def test_a_question_is_not_marked_answered_by_hand(editor_client, desk):
    question = desk["budget"]

    response = editor_client.post(edit_url(question), {"text": question.text, "status": "answered"})

    assert response.status_code == 200
    assert response.context["form"].errors["status"] == [
        "A question is answered by a published story or an accepted answer, not by hand."
    ]
    assert Question.objects.get(pk=question.pk).status == QuestionStatus.OPEN


def test_a_merged_question_cannot_be_reopened(editor_client, desk):
    merge_question(desk["budget"], desk["pumps"], by=make_editor("ed"))
    question = desk["budget"]

    response = editor_client.post(edit_url(question), {"text": question.text, "status": "open"})

    assert response.context["form"].errors["status"] == [
        "This question was merged into “Which coating lasts on the cooling pumps?”: it stays closed."
    ]
    assert Question.objects.get(pk=question.pk).status == QuestionStatus.CLOSED


# Merging


@pytest.fixture
def duplicate(desk, colleague):
    """A later question repeating "pumps", with an answer, a story in answer, a routing, a follower."""
    pumps = desk["pumps"]
    follower = UserFactory(username="fatima", first_name="Fatima")
    duplicate = QuestionFactory(text="Pump coatings: which one lasts?", asker=colleague)
    duplicate.followers.add(follower)
    duplicate.themes.add(ThemeFactory(name="Materials"))
    Answer.objects.create(question=duplicate, author=follower, text="The ceramic one.")
    Answer.objects.create(question=duplicate, author=colleague, text="Ask the lab.")
    Answer.objects.create(question=pumps, author=colleague, text="Ask the lab.")  # said on both already
    draft = StoryPageFactory(title="Coating trial notes", publish=False)
    StoryInAnswer.objects.create(question=duplicate, story=draft, teller=follower)
    QuestionRouting.objects.create(question=duplicate, person=desk["kim"])  # pumps is routed to Kim too
    omar = PersonFactory(name="Omar Field")
    QuestionRouting.objects.create(question=duplicate, person=omar)
    return duplicate


def test_merge_moves_answers_stories_routings_followers_and_themes_then_closes(desk, duplicate, asker):
    pumps = desk["pumps"]

    merge_question(duplicate, pumps, by=make_editor("ed"))

    duplicate.refresh_from_db()
    assert duplicate.status == QuestionStatus.CLOSED
    assert duplicate.merged_into == pumps
    assert [(a.author_name, a.text) for a in pumps.answers.all()] == [
        ("Fatima", "The ceramic one."),
        ("Theo", "Ask the lab."),
    ]
    assert [a.text for a in duplicate.answers.all()] == ["Ask the lab."]  # the repeat stays behind
    assert [link.story.title for link in pumps.stories_in_answer.all()] == ["Coating trial notes"]
    assert sorted(r.person.name for r in pumps.routings.all()) == ["Kim Lab", "Omar Field", "Priya Shah"]
    assert [r.person.name for r in duplicate.routings.all()] == ["Kim Lab"]
    assert sorted(user.username for user in pumps.followers.all()) == ["fatima", "theo"]
    assert [theme.name for theme in pumps.themes.all()] == ["Materials"]
    entry = ModelLogEntry.objects.get(object_id=str(duplicate.pk), action="questions.merge")
    assert entry.data["into"] == pumps.pk


def test_the_asker_of_the_target_does_not_follow_their_own_question(desk, asker):
    repeat = QuestionFactory(text="Pump coatings, again?", asker=asker)

    merge_question(repeat, desk["pumps"], by=make_editor("ed"))

    assert list(desk["pumps"].followers.all()) == []


def test_questions_merged_into_the_duplicate_now_point_at_the_target(desk):
    editor = make_editor("ed")
    earlier = QuestionFactory(text="Budget travel approvals?")
    merge_question(earlier, desk["budget"], by=editor)

    merge_question(desk["budget"], desk["pumps"], by=editor)

    earlier.refresh_from_db()
    assert earlier.merged_into == desk["pumps"]


def test_merge_refusals_say_why(desk):
    editor = make_editor("ed")
    pumps, budget = desk["pumps"], desk["budget"]
    third = QuestionFactory(text="Third question?")
    merge_question(budget, pumps, by=editor)

    with pytest.raises(CurationRefused) as into_itself:
        merge_question(third, third, by=editor)
    with pytest.raises(CurationRefused) as into_merged:
        merge_question(third, budget, by=editor)
    with pytest.raises(CurationRefused) as circular:
        merge_question(pumps, budget, by=editor)
    with pytest.raises(CurationRefused) as again:
        merge_question(budget, third, by=editor)
    with pytest.raises(CurationRefused) as answered:
        merge_question(desk["answered"], third, by=editor)

    assert str(into_itself.value) == "A question cannot be merged into itself."
    assert str(into_merged.value) == (
        "“Who approves the travel budget?” was merged into “Which coating lasts on the cooling pumps?”: "
        "merge into that question instead."
    )
    assert str(circular.value) == (
        "“Who approves the travel budget?” was merged into “Which coating lasts on the cooling pumps?”: "
        "merging back would go round in a circle."
    )
    assert str(again.value) == (
        "“Who approves the travel budget?” was already merged into “Which coating lasts on the cooling pumps?”."
    )
    assert str(answered.value) == (
        "“Has anyone tested ceramic coatings?” is answered: merge the other question into it instead."
    )
    assert isinstance(into_itself.value, ValueError)
    third.refresh_from_db()
    assert third.is_open and third.merged_into is None


def test_a_merge_chain_is_followed_to_its_end(desk):
    editor = make_editor("ed")
    pumps, budget = desk["pumps"], desk["budget"]
    middle = QuestionFactory(text="Middle question?")
    Question.objects.filter(pk=budget.pk).update(status=QuestionStatus.CLOSED, merged_into=middle)
    Question.objects.filter(pk=middle.pk).update(status=QuestionStatus.CLOSED, merged_into=pumps)
    budget.refresh_from_db()

    with pytest.raises(CurationRefused) as refused:
        merge_question(QuestionFactory(text="New one?"), budget, by=editor)

    assert "merge into that question instead" in str(refused.value)
    assert "“Which coating lasts on the cooling pumps?”" in str(refused.value)


def test_only_editors_merge_or_close(desk, colleague):
    with pytest.raises(PermissionError):
        merge_question(desk["budget"], desk["pumps"], by=colleague)
    with pytest.raises(PermissionError):
        close_question_by_editor(desk["budget"], by=colleague)
    assert Question.objects.get(pk=desk["budget"].pk).is_open


def test_merge_page_suggests_questions_sharing_words_and_searches(editor_client, desk, duplicate):
    page = editor_client.get(merge_url(duplicate))
    searched = editor_client.get(merge_url(duplicate), {"q": "travel"})

    assert page.status_code == 200
    assert [question.text for question in page.context["suggestions"]] == [
        "Which coating lasts on the cooling pumps?",
        "Has anyone tested ceramic coatings?",
    ]
    assert [question.text for question in searched.context["results"]] == ["Who approves the travel budget?"]
    assert f'value="{desk["budget"].pk}"' in searched.content.decode()
    assert Question.objects.get(pk=duplicate.pk).is_open  # looking changes nothing


def test_with_meaning_search_the_merge_page_suggests_near_duplicates_by_meaning(
    editor_client, meaning_search
):
    def asked(text):
        return QuestionFactory(text=text, embedding=question_embedding(text))

    # No word in common with the duplicate but "cooling" and "pumps"; much the same question.
    target = asked("Our cooling pumps keep rusting: who can help?")
    asked("How do I book the big meeting room?")
    duplicate = asked("Who knows how to stop corrosion on the cooling pumps?")

    page = editor_client.get(merge_url(duplicate))

    assert list(page.context["suggestions"]) == [target]


def test_editor_merges_from_the_admin_and_lands_on_the_target(editor_client, desk, duplicate):
    response = editor_client.post(merge_url(duplicate), {"into": desk["pumps"].pk}, follow=True)

    duplicate.refresh_from_db()
    assert response.redirect_chain[-1][0] == edit_url(desk["pumps"])
    assert messages_of(response)[0].count("was merged into") == 1
    assert "Pump coatings: which one lasts?" in messages_of(response)[0]
    assert duplicate.merged_into == desk["pumps"]
    assert duplicate.status == QuestionStatus.CLOSED


def test_a_refused_merge_in_the_admin_shows_the_reason(editor_client, desk):
    response = editor_client.post(merge_url(desk["budget"]), {"into": desk["budget"].pk}, follow=True)

    assert response.redirect_chain[-1][0] == merge_url(desk["budget"])
    assert "A question cannot be merged into itself." in messages_of(response)[0]
    assert Question.objects.get(pk=desk["budget"].pk).is_open


def test_merging_without_choosing_asks_for_a_choice(editor_client, desk):
    response = editor_client.post(merge_url(desk["budget"]), {}, follow=True)

    assert "Choose the question this one repeats." in messages_of(response)[0]


# Closing


def test_editor_closes_an_open_question_on_post_only(editor_client, desk):
    question = desk["budget"]

    confirm = editor_client.get(close_url(question))
    assert Question.objects.get(pk=question.pk).is_open
    response = editor_client.post(close_url(question), follow=True)

    assert "Yes, close it" in confirm.content.decode()
    assert response.redirect_chain[-1][0] == edit_url(question)
    assert "is closed: nobody will be asked to answer it." in messages_of(response)[0]
    assert Question.objects.get(pk=question.pk).status == QuestionStatus.CLOSED
    assert ModelLogEntry.objects.filter(object_id=str(question.pk), action="questions.close").count() == 1


def test_closing_an_answered_question_is_refused(editor_client, desk):
    response = editor_client.post(close_url(desk["answered"]), follow=True)

    assert "“Has anyone tested ceramic coatings?” is already answered." in messages_of(response)[0]
    assert Question.objects.get(pk=desk["answered"].pk).status == QuestionStatus.ANSWERED


def test_edit_view_offers_merge_and_close_for_an_open_question_only(editor_client, desk):
    open_page = editor_client.get(edit_url(desk["budget"])).content.decode()
    answered_page = editor_client.get(edit_url(desk["answered"])).content.decode()

    assert merge_url(desk["budget"]) in open_page and close_url(desk["budget"]) in open_page
    assert merge_url(desk["answered"]) not in answered_page
    assert close_url(desk["answered"]) not in answered_page


# The dashboard


def test_dashboard_lists_the_oldest_five_overdue_questions(editor_client, desk):
    for days in (8, 9, 11, 12, 13, 14):
        asked_days_ago(QuestionFactory(text=f"Open for {days} days?"), days)

    html = editor_client.get(HOME).content.decode()

    assert "Open questions older than a week" in html
    assert "7 open questions</a> asked over a week ago" in html
    panel = html[html.index("Open questions older than a week") :]
    shown = ["Open for 14 days?", "Open for 13 days?", "Open for 12 days?", "Open for 11 days?"]
    positions = [panel.index(text) for text in [*shown, "Which coating lasts on the cooling pumps?"]]
    assert positions == sorted(positions)
    assert "Open for 9 days?" not in panel and "Open for 8 days?" not in panel
    assert f'href="{edit_url(desk["pumps"])}"' in panel


def test_dashboard_shows_no_panel_when_nothing_is_overdue(editor_client, desk):
    close_question_by_editor(desk["pumps"], by=make_editor("ed"))

    assert "Open questions older than a week" not in editor_client.get(HOME).content.decode()


def test_storytellers_dashboard_has_no_questions_panel(client, desk):
    client.force_login(make_storyteller())

    html = client.get(HOME).content.decode()

    assert "Open questions older than a week" not in html


def test_the_question_history_names_the_merge_and_who_did_it(editor_client, desk):
    merge_question(desk["budget"], desk["pumps"], by=make_editor("ed"))

    html = editor_client.get(reverse("questions_admin:history", args=[desk["budget"].pk])).content.decode()

    assert "Merged into “Which coating lasts on the cooling pumps?”" in html
    assert "ed" in html
