"""What an editor approves is exactly what goes live: no edit slips in while a story is in review."""

import pytest
from django.urls import reverse
from wagtail.models import WorkflowState

from stories.models import StoryPage, Visibility
from tests.capture.form_data import story_data
from tests.factories import ThemeFactory
from tests.stories.test_admin import story_form

pytestmark = pytest.mark.django_db


def share(client, **overrides) -> StoryPage:
    assert client.post("/share/", story_data(**overrides)).status_code == 302
    return StoryPage.objects.order_by("-pk").first()


def approve(client, editor, story):
    story = StoryPage.objects.get(pk=story.pk)
    task_state = story.current_workflow_state.current_task_state
    client.force_login(editor)
    url = reverse("wagtailadmin_pages:workflow_action", args=(story.pk, "approve", task_state.pk))
    assert client.post(url, {"comment": ""}).status_code == 302


@pytest.fixture
def approved_theme(db):
    return ThemeFactory(name="Asking for help", is_approved=True)


def test_teller_cannot_edit_a_story_while_it_is_in_review(teller_client, approved_theme):
    story = share(teller_client, title="As the editor will read it", visibility="staff")

    page = teller_client.get(f"/share/story/{story.pk}/edit/")
    assert page.status_code == 403
    assert "is with the editors for review" in page.content.decode()
    response = teller_client.post(
        f"/share/story/{story.pk}/edit/", story_data(title="Changed behind the editor", visibility="public")
    )
    assert response.status_code == 403
    assert story.get_latest_revision_as_object().title == "As the editor will read it"


def test_my_stories_offers_no_edit_link_while_in_review(teller_client):
    story = share(teller_client)
    page = teller_client.get("/share/mine/").content.decode()
    assert f"/share/story/{story.pk}/edit/" not in page
    assert "If they ask for changes, you can edit it again here." in page


def test_teller_cannot_edit_in_the_admin_while_in_review(teller_client, teller, approved_theme):
    from tests.factories import make_storyteller

    story = share(teller_client, title="Reviewed text")
    teller.groups.add(*make_storyteller("other").groups.all())  # admin access, owner-based add
    edit_url = reverse("wagtailadmin_pages:edit", args=(story.pk,))
    latest = StoryPage.objects.get(pk=story.pk).get_latest_revision_as_object()
    form = story_form(latest, themes=[approved_theme], title="Admin edit during review")
    response = teller_client.post(edit_url, form)
    assert response.status_code in (200, 302, 403)
    assert StoryPage.objects.get(pk=story.pk).get_latest_revision_as_object().title == "Reviewed text"


def test_approve_publishes_the_reviewed_revision_even_if_the_teller_saved_a_later_one(
    teller_client, client, editor, approved_theme
):
    story = share(
        teller_client, title="What the editor read", visibility="staff", new_themes="Asking for help"
    )
    # The race: a later revision by the teller lands after the editor opened the review.
    latest = StoryPage.objects.get(pk=story.pk).get_latest_revision_as_object()
    latest.title, latest.visibility = "Slipped in after review", Visibility.PUBLIC
    latest.save_revision(user=story.owner)

    approve(client, editor, story)

    live = StoryPage.objects.get(pk=story.pk)
    assert live.live
    assert live.title == "What the editor read"
    assert live.visibility == Visibility.STAFF
    assert WorkflowState.objects.get().status == WorkflowState.STATUS_APPROVED


def test_approve_publishes_the_editors_own_correction(teller_client, client, editor, approved_theme):
    story = share(teller_client, title="Typo in teh title", new_themes="Asking for help")
    corrected = StoryPage.objects.get(pk=story.pk).get_latest_revision_as_object()
    corrected.title = "Typo in the title"
    corrected.save_revision(user=editor)

    approve(client, editor, story)

    assert StoryPage.objects.get(pk=story.pk).title == "Typo in the title"


def test_after_changes_requested_the_teller_edits_and_the_review_starts_again(
    teller_client, client, editor, approved_theme
):
    story = share(teller_client, title="First try", new_themes="Asking for help")
    task_state = StoryPage.objects.get(pk=story.pk).current_workflow_state.current_task_state
    client.force_login(editor)
    client.post(
        reverse("wagtailadmin_pages:workflow_action", args=(story.pk, "reject", task_state.pk)),
        {"comment": "More, please."},
    )
    client.force_login(story.owner)
    assert client.post(f"/share/story/{story.pk}/edit/", story_data(title="Second try")).status_code == 302
    assert (
        StoryPage.objects.get(pk=story.pk).current_workflow_state.status == WorkflowState.STATUS_IN_PROGRESS
    )

    approve(client, editor, story)
    assert StoryPage.objects.get(pk=story.pk).title == "Second try"
