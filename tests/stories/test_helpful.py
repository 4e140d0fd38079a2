""" "This helped me": one vote per signed-in reader, toggled on and off; anonymous readers see the count."""

from __future__ import annotations

import pytest
from django.test import Client

from stories.models import HelpfulVote, StoryPage
from tests.factories import StoryPageFactory, UserFactory

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def story():
    return StoryPageFactory(title="Helpful story")


def vote(client, story, **headers):
    return client.post(f"/stories/{story.pk}/helpful/", **headers)


def test_signed_in_reader_votes_and_the_count_goes_up(signed_in_client, staff_user, story):
    response = vote(signed_in_client, story, **JSON)
    assert response.json() == {"voted": True, "count": 1}
    assert HelpfulVote.objects.filter(story=story, user=staff_user).count() == 1
    assert StoryPage.objects.get(pk=story.pk).helpful_count == 1


def test_voting_again_takes_the_vote_back(signed_in_client, story):
    vote(signed_in_client, story, **JSON)
    response = vote(signed_in_client, story, **JSON)
    assert response.json() == {"voted": False, "count": 0}
    assert HelpfulVote.objects.filter(story=story).count() == 0


def test_each_reader_has_one_vote(signed_in_client, story):
    other = Client()
    other.force_login(UserFactory(username="another-reader"))
    vote(signed_in_client, story, **JSON)
    assert vote(other, story, **JSON).json() == {"voted": True, "count": 2}
    vote(signed_in_client, story, **JSON)
    vote(signed_in_client, story, **JSON)
    assert HelpfulVote.objects.filter(story=story).count() == 2


def test_plain_form_post_comes_back_to_the_story(signed_in_client, story):
    response = vote(signed_in_client, story)
    assert response.status_code == 302
    assert response["Location"] == f"{story.url}#helpful"
    html = signed_in_client.get(story.url).content.decode()
    assert 'aria-pressed="true"' in html
    assert "1 person</span> found this helpful" in html


def test_anonymous_vote_is_refused(client, story):
    response = vote(client, story, **JSON)
    assert response.status_code == 403
    form_response = vote(client, story)
    assert form_response.status_code == 302 and form_response["Location"].startswith("/accounts/login/")
    assert HelpfulVote.objects.count() == 0


def test_anonymous_reader_sees_the_count_and_a_sign_in_link(client, story):
    HelpfulVote.objects.create(story=story, user=UserFactory())
    html = client.get(story.url).content.decode()
    assert "<strong>1 person</strong> found this helpful." in html
    assert f'<a href="/accounts/login/?next={story.url}">Sign in</a>' in html
    assert "data-helpful-form" not in html


def test_vote_needs_a_csrf_token(staff_user, story):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff_user)
    assert vote(strict, story, **JSON).status_code == 403
    assert HelpfulVote.objects.count() == 0


def test_vote_form_carries_a_csrf_token(signed_in_client, story):
    html = signed_in_client.get(story.url).content.decode()
    form = html.split("data-helpful-form")[1].split("</form>")[0]
    assert 'name="csrfmiddlewaretoken"' in form
    assert 'aria-pressed="false"' in form


def test_vote_is_post_only(signed_in_client, story):
    assert signed_in_client.get(f"/stories/{story.pk}/helpful/").status_code == 405


def test_cannot_vote_on_a_story_the_reader_cannot_see(signed_in_client):
    draft = StoryPageFactory(title="Draft", publish=False)
    assert vote(signed_in_client, draft, **JSON).status_code == 404
    assert HelpfulVote.objects.count() == 0


def test_publishing_again_keeps_the_helpful_count_of_the_votes(signed_in_client, story):
    vote(signed_in_client, story)
    story.refresh_from_db()
    assert story.helpful_count == 1
    # The revision being published was saved before the vote, with a count of 0.
    story.get_latest_revision().publish()
    story.refresh_from_db()
    assert story.helpful_count == 1
