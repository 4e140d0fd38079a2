"""/share/: the guided form turns a staff member's story into a draft sent to editorial review."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from wagtail.models import WorkflowState

from stories import schema
from stories.models import OutcomeType, Person, Source, StoryPage, Theme
from stories.workflow import EDITORIAL_REVIEW
from tests.capture.form_data import story_data
from tests.factories import OutcomeTypeFactory, PersonFactory, ThemeFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/share/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/share/"


def test_form_asks_the_questions_in_plain_words_and_links_to_voice(teller_client):
    page = teller_client.get("/share/").content.decode()
    for question in (
        "What was the situation?",
        "What was your aha moment?",
        "What changed? What was the result?",
    ):
        assert question in page
    assert 'href="/share/voice/"' in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_submitting_creates_a_draft_in_editorial_review_with_every_field(teller_client, teller):
    outcome = OutcomeTypeFactory(name="Time saved")
    theme = ThemeFactory(name="Asking for help")
    colleague = PersonFactory(name="Priya Raman")
    response = teller_client.post(
        "/share/",
        story_data(
            outcome_types=[outcome.pk],
            themes=[theme.pk],
            people=[colleague.pk],
            new_people="Jon Bell",
            new_themes="",
            visibility="staff",
        ),
    )
    story = StoryPage.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/share/story/{story.pk}/submitted/"

    assert not story.live
    assert story.get_parent().specific_class.__name__ == "StoryIndexPage"
    assert story.owner == teller
    assert story.teller == Person.objects.get(user=teller)
    assert story.teller.name == "Ana Lima"
    assert story.source == Source.FORM
    assert story.title == "One message to research saved a week"
    assert story.context.startswith("We were stuck")
    assert story.aha.startswith("I asked on the research channel")
    assert story.outcome.startswith("She walked us through it")
    assert str(story.impact_value) == "5.00" and story.impact_unit == "days saved"
    assert story.occurred_on.isoformat() == "2026-03-14"
    assert story.visibility == "staff"
    assert story.consent is True
    assert list(story.outcome_types.all()) == [outcome]
    assert list(story.themes.all()) == [theme]
    assert sorted(story.people_names) == ["Jon Bell", "Priya Raman"]

    state = WorkflowState.objects.get()
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert state.workflow.name == EDITORIAL_REVIEW
    assert state.content_object.pk == story.pk
    assert state.requested_by == teller


def test_editors_are_notified_by_email(teller_client, editor, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    teller_client.post("/share/", story_data())
    assert any(editor.email in message.to for message in mail.outbox), [m.to for m in mail.outbox]


def test_confirmation_page_says_what_happens_next_and_clears_the_browser_copy(teller_client, teller):
    response = teller_client.post("/share/", story_data(), follow=True)
    page = response.content.decode()
    assert "your story is with the editors" in page
    assert "My stories" in page
    assert f'data-autosave-clear="storybank:share:{teller.pk}:new"' in page


def test_confirmation_page_of_someone_elses_story_is_not_found(teller_client, client):
    teller_client.post("/share/", story_data())
    story = StoryPage.objects.get()
    client.force_login(UserFactory())
    assert client.get(f"/share/story/{story.pk}/submitted/").status_code == 404


def test_empty_submission_explains_each_missing_answer_next_to_its_field(teller_client):
    response = teller_client.post("/share/", {})
    page = response.content.decode()
    assert response.status_code == 200
    assert StoryPage.objects.count() == 0
    for message in (
        "Please give your story a title.",
        "Please tell us about the situation before the aha moment.",
        "Please describe your aha moment: it is the heart of the story.",
        "Please tell us what changed as a result.",
        "Please tell us roughly when it happened.",
        "Please tick this box to agree to publication",
        "Please choose who may read your story.",
        "Please choose at least one theme, or propose a new one",
    ):
        assert message in page
    assert 'id="id_title_error"' in page
    assert 'aria-invalid="true"' in page


def test_a_future_date_is_refused(teller_client):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = teller_client.post("/share/", story_data(occurred_on=tomorrow))
    assert "That date is in the future" in response.content.decode()
    assert StoryPage.objects.count() == 0


def test_a_garbled_date_is_refused_with_an_example(teller_client):
    response = teller_client.post("/share/", story_data(occurred_on="last spring"))
    assert "Please enter a date like 2026-03-14." in response.content.decode()


def test_input_is_kept_when_the_form_is_shown_again(teller_client):
    person = PersonFactory(name="Priya Raman")
    response = teller_client.post(
        "/share/",
        story_data(
            title="",
            aha="The <b>shared</b> sheet made it obvious",
            new_themes="Onboarding",
            people=[person.pk],
        ),
    )
    page = response.content.decode()
    assert "Please give your story a title." in page
    assert "The &lt;b&gt;shared&lt;/b&gt; sheet made it obvious" in page
    assert 'value="Onboarding"' in page
    assert f'name="people" value="{person.pk}" checked' in page
    assert "Priya Raman" in page


def test_a_number_without_a_unit_is_fine_but_a_unit_needs_a_number(teller_client):
    response = teller_client.post("/share/", story_data(impact_value="", impact_unit="hours"))
    assert "Please add the number that goes with “hours”." in response.content.decode()


def test_a_request_without_csrf_token_is_refused(teller, editorial_review):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(teller)
    assert client.post("/share/", story_data()).status_code == 403
    assert StoryPage.objects.count() == 0


def test_a_proposed_theme_is_created_unapproved_and_attached(teller_client, teller):
    ThemeFactory(name="Customer calls")
    teller_client.post("/share/", story_data(new_themes="Pair programming, customer calls"))
    story = StoryPage.objects.get()
    proposed = Theme.objects.get(name="Pair programming")
    assert proposed.is_approved is False
    assert proposed.proposed_by == teller
    assert Theme.objects.filter(name__iexact="customer calls").count() == 1
    assert sorted(theme.name for theme in story.themes.all()) == ["Customer calls", "Pair programming"]
    assert story.theme_names == ["Customer calls"]  # shown once an editor approves the proposal


def test_unapproved_themes_are_not_offered_as_choices(teller_client):
    ThemeFactory(name="Pending idea", is_approved=False)
    ThemeFactory(name="Mentoring")
    page = teller_client.get("/share/").content.decode()
    assert "Mentoring" in page
    assert "Pending idea" not in page


def test_an_unknown_person_is_added_for_review_and_a_known_name_is_reused(teller_client):
    known = PersonFactory(name="Priya Raman")
    teller_client.post("/share/", story_data(new_people="priya raman, Jon Bell"))
    story = StoryPage.objects.get()
    newcomer = Person.objects.get(name="Jon Bell")
    assert newcomer.needs_review is True
    assert Person.objects.filter(name__iexact="priya raman").count() == 1
    assert set(story.people.all()) == {known, newcomer}
    assert Person.objects.get(pk=known.pk).needs_review is False


def test_outcome_types_are_offered_as_checkboxes(teller_client):
    OutcomeTypeFactory(name="Expert found")
    page = teller_client.get("/share/").content.decode()
    assert 'type="checkbox" name="outcome_types"' in page
    assert "Expert found" in page
    assert OutcomeType.objects.count() >= 1


def test_people_search_finds_directory_entries_as_you_type(teller_client):
    PersonFactory(name="Priya Raman", team="Research", email="priya@example.org")
    PersonFactory(name="Jon Bell")
    body = teller_client.get("/share/people/?q=ram").json()
    assert [match["name"] for match in body["results"]] == ["Priya Raman"]
    assert body["results"][0]["team"] == "Research"
    assert "email" not in body["results"][0]
    assert teller_client.get("/share/people/?q=pri").json()["results"][0]["name"] == "Priya Raman"


def test_people_search_is_for_signed_in_users_only(client):
    PersonFactory(name="Priya Raman")
    response = client.get("/share/people/?q=pri")
    assert response.status_code == 403
    assert "results" not in response.json()


def test_a_title_without_letters_still_makes_a_story(teller_client):
    for _ in range(2):
        assert teller_client.post("/share/", story_data(title="🎉🎉")).status_code == 302
    assert sorted(StoryPage.objects.values_list("slug", flat=True)) == ["story", "story-2"]


def test_a_question_added_to_the_schema_is_asked_and_saved(teller_client, monkeypatch):
    """`search_description` (a column Page already has) stands in for a new story field."""
    made_up = schema.StoryField(
        "search_description",
        schema.Kind.TEXT,
        "In one line",
        question="Say it in one line",
        hint="The story as one sentence.",
        messages={"max_length": "Please keep it under %(limit_value)d characters."},
        max_length=500,
        in_share_form=True,
    )
    monkeypatch.setattr(schema, "STORY_FIELDS", (*schema.STORY_FIELDS, made_up))
    page = teller_client.get("/share/").content.decode()
    assert (
        '<label for="id_search_description">Say it in one line <span class="optional">(optional)</span>'
        in page
    )
    assert '<textarea name="search_description"' in page
    assert (
        page.index('name="outcome"') < page.index('name="search_description"') < page.index("section-result")
    )

    refused = teller_client.post("/share/", story_data(search_description="x" * 501))
    assert "Please keep it under 500 characters." in refused.content.decode()
    saved = teller_client.post("/share/", story_data(search_description="  A week saved by one question. "))
    assert saved.status_code == 302
    assert StoryPage.objects.get().search_description == "A week saved by one question."


def test_a_story_text_of_a_few_characters_asks_for_more(teller_client):
    response = teller_client.post("/share/", story_data(context="Stuck.", aha="   ", outcome="Fixed it."))
    page = response.content.decode()
    assert "Please say a little more about the situation (a sentence or two)." in page
    assert "Please describe your aha moment: it is the heart of the story." in page
    assert "Please say a little more about what changed (a sentence or two)." in page
    assert StoryPage.objects.count() == 0


def test_spaces_inside_a_title_are_made_single(teller_client):
    teller_client.post("/share/", story_data(title="  One   message\tsaved a week "))
    assert StoryPage.objects.get().title == "One message saved a week"


def test_a_story_slug_keeps_the_titles_accents(teller_client):
    for _ in range(2):
        teller_client.post("/share/", story_data(title="Café crème for the research team"))
    assert sorted(StoryPage.objects.values_list("slug", flat=True)) == [
        "café-crème-for-the-research-team",
        "café-crème-for-the-research-team-2",
    ]
