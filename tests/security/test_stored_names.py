"""Stored file names are random: no uploader's name, timestamp or sequence number to guess."""

import re

import pytest
from django.core.files.base import ContentFile

from capture.drafting import save_poster_image
from stories.models import Clip, StoryPage
from tests.capture.form_data import image_bytes, story_data
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RANDOM_NAME = re.compile(r"^(clips|original_images|images|documents)/[A-Za-z0-9]{22}\.[a-z0-9]+$")


def test_a_cover_from_the_share_form_does_not_keep_the_uploaders_file_name(teller_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("q3-layoffs-plan.png", image_bytes(), content_type="image/png")
    teller_client.post("/share/", {**story_data(image_alt="A chart"), "image": upload})
    cover = StoryPage.objects.get().cover_image
    assert RANDOM_NAME.match(cover.file.name), cover.file.name
    rendition = cover.get_rendition("fill-40x40")
    assert RANDOM_NAME.match(rendition.file.name), rendition.file.name
    assert "layoffs" not in rendition.file.name


def test_a_poster_frame_is_not_named_after_the_time_it_was_taken():
    poster = save_poster_image(image_bytes("JPEG"), title="Poster", user=UserFactory())
    assert RANDOM_NAME.match(poster.file.name), poster.file.name


def test_a_clip_is_stored_under_a_random_name_and_keeps_its_original_name_as_data():
    clip = Clip(original_name="interview with Dana.webm")
    clip.file.save("interview with Dana.webm", ContentFile(b"webm"), save=True)
    assert RANDOM_NAME.match(clip.file.name), clip.file.name
    assert Clip.objects.get(pk=clip.pk).original_name == "interview with Dana.webm"


def test_two_uploads_of_the_same_name_get_unrelated_names():
    first, second = Clip(), Clip()
    first.file.save("talk.wav", ContentFile(b"a"), save=True)
    second.file.save("talk.wav", ContentFile(b"b"), save=True)
    assert first.file.name != second.file.name
    assert not second.file.name.startswith(first.file.name.rsplit(".", 1)[0])
