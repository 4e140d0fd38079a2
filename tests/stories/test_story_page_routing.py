"""The library routes a story's address straight to the story; the story page decides who may read it.

The library's route reads a story in one query as a story; anything it does not recognise falls
back to Wagtail's own routing, and the story's visibility is still decided when it is served.
"""

from __future__ import annotations

import pytest
from wagtail.models import PageViewRestriction

from stories.models import Visibility
from tests.factories import StoryPageFactory, library

pytestmark = pytest.mark.django_db


def test_a_story_address_serves_that_story_with_the_library_as_its_crumb(client):
    story = StoryPageFactory(title="Routed straight here")
    html = client.get("/stories/" + story.slug + "/").content.decode()
    assert '<h1 id="story-title">Routed straight here</h1>' in html
    assert f'href="{library().url}"' in html and library().title in html


def test_an_address_naming_no_story_or_going_past_one_is_not_found(client):
    story = StoryPageFactory(title="Only this deep")
    assert client.get("/stories/no-such-story/").status_code == 404
    assert client.get("/stories/" + story.slug + "/deeper/").status_code == 404


def test_a_story_saved_as_a_draft_is_not_found_at_its_address(client):
    draft = StoryPageFactory(title="Not yet", publish=False)
    assert client.get("/stories/" + draft.slug + "/").status_code == 404


def test_a_staff_only_story_sends_an_anonymous_reader_to_sign_in_and_comes_back_after(client):
    staff_only = StoryPageFactory(title="Colleagues only", visibility=Visibility.STAFF)
    response = client.get(staff_only.url + "?t=5")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=" + staff_only.url + "%3Ft%3D5"


def test_a_story_in_a_private_section_asks_for_its_password_before_anything_else(client):
    hidden = StoryPageFactory(title="Behind a password")
    PageViewRestriction.objects.create(page=hidden, restriction_type="password", password="s3cret")
    html = client.get(hidden.url).content.decode()
    assert 'name="password"' in html
    assert 'id="story-title"' not in html
