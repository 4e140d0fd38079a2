"""The "Editorial review" workflow: storytellers submit, editors approve, and approval publishes."""

import pytest
from django.urls import reverse
from wagtail.models import WorkflowState

from stories.models import StoryPage
from stories.workflow import EDITORIAL_REVIEW, submit_for_review
from tests.factories import StoryPageFactory, ThemeFactory, library, make_editor, make_storyteller
from tests.stories.test_admin import story_form

pytestmark = pytest.mark.django_db


def add_url():
    return reverse("wagtailadmin_pages:add", args=("stories", "storypage", library().pk))


def approve_url(story, task_state):
    return reverse("wagtailadmin_pages:workflow_action", args=(story.pk, "approve", task_state.pk))


def test_every_story_inherits_the_editorial_review_workflow():
    story = StoryPageFactory(publish=False)

    assert story.get_workflow().name == EDITORIAL_REVIEW
    assert [task.name for task in story.get_workflow().tasks] == ["Editors approve the story"]


def test_storytellers_draft_submitted_goes_into_editorial_review(client):
    client.force_login(make_storyteller())
    draft = StoryPage(title="Asking the night shift", slug="asking-the-night-shift")
    form = story_form(draft, themes=[ThemeFactory()])
    form["action-submit"] = "Submit for review"

    response = client.post(add_url(), form)

    assert response.status_code == 302
    story = StoryPage.objects.get(slug="asking-the-night-shift")
    assert not story.live
    state = story.current_workflow_state
    assert state.workflow.name == EDITORIAL_REVIEW
    assert state.status == WorkflowState.STATUS_IN_PROGRESS


def test_editor_approves_a_submitted_story_and_it_goes_live(client):
    storyteller = make_storyteller()
    story = StoryPageFactory(publish=False, themes=[ThemeFactory()])
    state = submit_for_review(story, storyteller)
    client.force_login(make_editor())

    response = client.post(approve_url(story, state.current_task_state))

    assert response.status_code == 302
    story.refresh_from_db()
    assert story.live
    assert story.current_workflow_state is None


def test_approving_a_story_without_themes_is_refused_with_a_message(client):
    story = StoryPageFactory(publish=False)
    state = submit_for_review(story, make_storyteller())
    client.force_login(make_editor())

    response = client.post(approve_url(story, state.current_task_state), follow=True)

    assert "was not published: Choose at least one theme before publishing" in response.content.decode()
    story.refresh_from_db()
    assert not story.live
    assert story.current_workflow_state.status == WorkflowState.STATUS_IN_PROGRESS


def test_approving_from_the_dashboard_modal_is_refused_too(client):
    story = StoryPageFactory(publish=False)
    story.consent = False
    story.themes.set([ThemeFactory()])
    story.save_revision()
    state = submit_for_review(story, make_storyteller())
    client.force_login(make_editor())

    response = client.post(
        approve_url(story, state.current_task_state), HTTP_X_REQUESTED_WITH="XMLHttpRequest"
    )

    assert response.json()["step"] == "success"
    story.refresh_from_db()
    assert not story.live
    edit_page = client.get(reverse("wagtailadmin_pages:edit", args=(story.pk,))).content.decode()
    assert "the teller agreed to publish" in edit_page


def test_approving_in_the_editor_without_consent_is_refused(client):
    story = StoryPageFactory(publish=False)
    state = submit_for_review(story, make_storyteller())
    client.force_login(make_editor())
    form = story_form(story, themes=[ThemeFactory()], consent=False)
    form["action-workflow-action"] = "true"
    form["workflow-action-name"] = "approve"

    response = client.post(reverse("wagtailadmin_pages:edit", args=(story.pk,)), form)

    assert "no story goes live without its teller" in response.content.decode()
    story.refresh_from_db()
    assert not story.live
    assert state.current_task_state.status == "in_progress"


def test_storyteller_cannot_approve_a_review(client):
    story = StoryPageFactory(publish=False, themes=[ThemeFactory()])
    state = submit_for_review(story, make_storyteller("teller1"))
    client.force_login(make_storyteller("teller2"))

    response = client.post(approve_url(story, state.current_task_state))

    assert response.status_code in (302, 403, 404)
    story.refresh_from_db()
    assert not story.live
