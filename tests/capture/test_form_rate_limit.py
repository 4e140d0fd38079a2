"""Each person may share at most STORY_RATE_LIMIT_PER_HOUR stories an hour; the next one gets a 429."""

from datetime import timedelta

import pytest
from django.utils import timezone
from wagtail.models import Revision

from stories.models import StoryPage
from tests.capture.form_data import story_data
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_story_over_the_hourly_limit_is_refused_with_the_form_kept(teller_client, settings):
    settings.STORY_RATE_LIMIT_PER_HOUR = 2
    for n in range(2):
        assert teller_client.post("/share/", story_data(title=f"Story {n}")).status_code == 302
    response = teller_client.post("/share/", story_data(title="One too many"))
    page = response.content.decode()
    assert response.status_code == 429
    assert "You have shared 2 stories in the last hour" in page
    assert 'value="One too many"' in page
    assert StoryPage.objects.count() == 2


def test_stories_older_than_an_hour_do_not_count(teller_client, settings):
    settings.STORY_RATE_LIMIT_PER_HOUR = 1
    assert teller_client.post("/share/", story_data(title="Yesterday's")).status_code == 302
    Revision.objects.update(created_at=timezone.now() - timedelta(hours=1, minutes=1))
    assert teller_client.post("/share/", story_data(title="Today's")).status_code == 302
    assert StoryPage.objects.count() == 2


def test_the_limit_is_per_person(teller_client, settings):
    settings.STORY_RATE_LIMIT_PER_HOUR = 1
    assert teller_client.post("/share/", story_data()).status_code == 302
    teller_client.force_login(UserFactory())
    assert teller_client.post("/share/", story_data()).status_code == 302


def test_editing_a_story_does_not_count_against_the_limit(teller_client, settings):
    settings.STORY_RATE_LIMIT_PER_HOUR = 1
    teller_client.post("/share/", story_data())
    story = StoryPage.objects.get()
    # Sent back by an editor (a story in review cannot be edited), then edited by its teller.
    task_state = story.current_workflow_state.current_task_state
    task_state.task.specific.on_action(task_state, UserFactory(is_superuser=True), "reject", comment="More.")
    response = teller_client.post(f"/share/story/{story.pk}/edit/", story_data(title="Sharper title"))
    assert response.status_code == 302
    assert teller_client.post("/share/", story_data()).status_code == 429


def test_the_form_warns_before_writing_when_the_limit_is_reached(teller_client, settings):
    settings.STORY_RATE_LIMIT_PER_HOUR = 1
    assert "the most stories we accept in an hour" not in teller_client.get("/share/").content.decode()
    teller_client.post("/share/", story_data())
    response = teller_client.get("/share/")
    assert response.status_code == 200
    assert "the most stories we accept in an hour" in response.content.decode()
