"""/share/mine/ and editing: tellers follow their stories through review and edit them until published."""

import pytest
from wagtail.models import WorkflowState

from stories.models import StoryPage
from tests.capture.form_data import image_upload, story_data
from tests.factories import PersonFactory, StoryPageFactory, ThemeFactory, UserFactory

pytestmark = pytest.mark.django_db


def share(client, **overrides) -> StoryPage:
    assert client.post("/share/", story_data(**overrides)).status_code == 302
    return StoryPage.objects.order_by("-pk").first()


def editor_acts(client, editor_user, story, action: str, comment: str = ""):
    """An editor clicks Approve or Request changes in the Wagtail admin."""
    task_state = story.current_workflow_state.current_task_state
    client.force_login(editor_user)
    response = client.post(
        f"/admin/pages/workflow/action/{story.pk}/{action}/{task_state.pk}/", {"comment": comment}
    )
    assert response.status_code == 302, response.content[:500]


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/share/mine/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/share/mine/")


def test_my_stories_lists_only_my_own_stories_in_review(teller_client):
    share(teller_client, title="Mine, in review")
    StoryPageFactory(title="Someone else's story")
    page = teller_client.get("/share/mine/").content.decode()
    assert "Mine, in review" in page
    assert "In review" in page
    assert "Someone else&#x27;s story" not in page and "Someone else's story" not in page


def test_an_empty_list_invites_a_first_story(teller_client):
    page = teller_client.get("/share/mine/").content.decode()
    assert "You haven’t shared a story yet." in page


def test_changes_requested_shows_the_editors_comment(teller_client, client, editor):
    story = share(teller_client, title="Needs a bit more")
    teller = story.owner
    editor_acts(client, editor, story, "reject", "Could you add who Priya is and what changed for customers?")
    client.force_login(teller)
    page = client.get("/share/mine/").content.decode()
    assert "Changes requested" in page
    assert "Could you add who Priya is and what changed for customers?" in page


def test_editing_after_changes_requested_saves_a_revision_and_resubmits(teller_client, client, editor):
    story = share(teller_client, title="First try")
    teller = story.owner
    revisions_before = story.revisions.count()
    editor_acts(client, editor, story, "reject", "Please say more about the outcome.")
    client.force_login(teller)

    form_page = client.get(f"/share/story/{story.pk}/edit/").content.decode()
    assert 'value="First try"' in form_page

    response = client.post(
        f"/share/story/{story.pk}/edit/",
        story_data(title="Second try", outcome="Customers now get answers in a day."),
    )
    assert response.status_code == 302
    assert response["Location"] == f"/share/mine/?updated={story.pk}"

    story.refresh_from_db()
    assert story.revisions.count() == revisions_before + 1
    latest = story.get_latest_revision_as_object()
    assert latest.title == "Second try"
    assert latest.outcome == "Customers now get answers in a day."
    state = story.current_workflow_state
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert WorkflowState.objects.count() == 1  # the same review, resumed

    page = client.get(response["Location"]).content.decode()
    assert "In review" in page and "Second try" in page
    assert f'data-autosave-clear="storybank:share:{teller.pk}:story-{story.pk}"' in page


def test_nobody_else_can_open_or_edit_my_story(teller_client, client):
    story = share(teller_client)
    client.force_login(UserFactory())
    assert client.get(f"/share/story/{story.pk}/edit/").status_code == 404
    assert client.post(f"/share/story/{story.pk}/edit/", story_data(title="Hijacked")).status_code == 404
    assert story.get_latest_revision_as_object().title != "Hijacked"


def test_edit_of_an_unknown_story_is_not_found(teller_client):
    assert teller_client.get("/share/story/999999/edit/").status_code == 404


def test_editor_approval_publishes_the_story_with_every_field(teller_client, client, editor):
    theme = ThemeFactory(name="Customer calls")
    colleague = PersonFactory(name="Priya Raman")
    story = share(
        teller_client,
        themes=[theme.pk],
        people=[colleague.pk],
        new_people="Jon Bell",
        new_themes="Research network",
        visibility="public",
    )
    teller = story.owner
    sent_back(client, editor, story)
    teller_client.post(
        f"/share/story/{story.pk}/edit/",
        {
            **story_data(
                themes=[theme.pk],
                people=[colleague.pk],
                new_people="Jon Bell",
                new_themes="Research network",
                image_alt="The sketch",
            ),
            "image": image_upload(size=(320, 200)),
        },
    )
    editor_acts(client, editor, StoryPage.objects.get(pk=story.pk), "approve")

    published = StoryPage.objects.get(pk=story.pk)
    assert published.live
    assert published.title == "One message to research saved a week"
    assert published.owner == teller and published.teller.user == teller
    assert published.source == "form"
    assert published.aha.startswith("I asked on the research channel")
    assert published.context and published.outcome
    assert published.impact == "5 days saved"
    assert published.occurred_on.isoformat() == "2026-03-14"
    assert published.consent and published.visibility == "public"
    assert sorted(theme.name for theme in published.themes.all()) == ["Customer calls", "Research network"]
    assert published.theme_names == ["Customer calls"]  # the proposed theme waits for approval
    assert sorted(published.people_names) == ["Jon Bell", "Priya Raman"]
    assert published.cover_image is not None and published.cover_image.width == 320
    assert WorkflowState.objects.get().status == WorkflowState.STATUS_APPROVED

    client.logout()
    reader = client.get(published.url)
    assert reader.status_code == 200

    client.force_login(teller)
    page = client.get("/share/mine/").content.decode()
    assert "Published" in page
    assert f'href="{published.url}"' in page
    assert f"/share/story/{story.pk}/edit/" not in page


def test_a_published_story_can_no_longer_be_edited_by_its_teller(teller_client, client, editor):
    story = share(teller_client, title="Done and dusted")
    teller = story.owner
    editor_acts(client, editor, story, "approve")
    client.force_login(teller)
    response = client.get(f"/share/story/{story.pk}/edit/")
    assert response.status_code == 403
    assert "has been published" in response.content.decode()
    response = client.post(f"/share/story/{story.pk}/edit/", story_data(title="Sneaky change"))
    assert response.status_code == 403
    assert StoryPage.objects.get(pk=story.pk).get_latest_revision_as_object().title == "Done and dusted"


def sent_back(client, editor, story):
    """The editor asks for changes, and the teller signs in again: the story is theirs to edit."""
    teller = story.owner
    editor_acts(client, editor, story, "reject", "Please add a little more.")
    client.force_login(teller)


def test_edit_form_validates_like_the_share_form(teller_client, client, editor):
    story = share(teller_client)
    sent_back(client, editor, story)
    response = teller_client.post(f"/share/story/{story.pk}/edit/", story_data(aha=""))
    assert "Please describe your aha moment" in response.content.decode()
    assert story.get_latest_revision_as_object().aha.startswith("I asked")


def test_the_cover_can_be_removed_when_editing(teller_client, client, editor):
    teller_client.post("/share/", {**story_data(image_alt="A chart"), "image": image_upload()})
    story = StoryPage.objects.get()
    sent_back(client, editor, story)
    assert story.cover_image is not None
    page = teller_client.get(f"/share/story/{story.pk}/edit/").content.decode()
    assert "Remove the current picture" in page
    teller_client.post(f"/share/story/{story.pk}/edit/", story_data(remove_image="on"))
    assert StoryPage.objects.get().get_latest_revision_as_object().cover_image is None
