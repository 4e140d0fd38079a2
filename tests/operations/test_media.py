"""Uploads are served with byte ranges; clips follow their story's visibility."""

import pytest
from django.core.files.base import ContentFile

from stories.models import Clip, Visibility
from tests.factories import StoryPageFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clip():
    clip = Clip(original_name="talk.wav")
    clip.file.save("talk.wav", ContentFile(b"0123456789" * 10), save=True)
    return clip


def test_range_request_returns_the_asked_bytes(client, clip):
    StoryPageFactory(clip=clip)
    response = client.get(f"/media/{clip.file.name}", HTTP_RANGE="bytes=10-19")
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == b"0123456789"
    assert response["Content-Range"] == f"bytes 10-19/{clip.file.size}"


def test_unsatisfiable_range_is_416(client, clip):
    StoryPageFactory(clip=clip)
    response = client.get(f"/media/{clip.file.name}", HTTP_RANGE="bytes=5000-")
    assert response.status_code == 416


def test_clip_of_staff_only_story_hidden_from_anonymous(client, clip):
    StoryPageFactory(clip=clip, visibility=Visibility.STAFF)
    assert client.get(f"/media/{clip.file.name}").status_code == 404
    client.force_login(UserFactory())
    assert client.get(f"/media/{clip.file.name}").status_code == 200


def test_clip_of_draft_hidden_from_anonymous(client, clip):
    StoryPageFactory(clip=clip, publish=False)
    assert client.get(f"/media/{clip.file.name}").status_code == 404


def test_path_outside_media_is_refused(client):
    assert client.get("/media/../storybank/settings.py").status_code == 404
