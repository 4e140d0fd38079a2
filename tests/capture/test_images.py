"""Pictures on the share form: checked by content with Pillow, refused with a message, never a 500."""

import io
import os

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from wagtail.images import get_image_model

from stories.models import StoryPage
from tests.capture.form_data import image_bytes, image_upload, story_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def image_limits(settings):
    """Set the picture limits as settings.py does: Wagtail's image field reads its own two settings."""

    def set_limits(*, megabytes: int | None = None, pixels: int | None = None) -> None:
        if megabytes is not None:
            settings.MAX_IMAGE_MB = megabytes
            settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE = megabytes * 1024 * 1024
        if pixels is not None:
            settings.MAX_IMAGE_PIXELS = pixels
            settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS = pixels

    return set_limits


def share_with_image(client, upload, **overrides):
    return client.post(
        "/share/", {**story_data(image_alt="Priya at the whiteboard", **overrides), "image": upload}
    )


def test_a_good_image_becomes_the_cover(teller_client, teller):
    response = share_with_image(teller_client, image_upload("whiteboard.png", size=(800, 600)))
    assert response.status_code == 302
    story = StoryPage.objects.get()
    cover = story.cover_image
    assert cover is not None
    assert (cover.width, cover.height) == (800, 600)
    assert cover.description == "Priya at the whiteboard"
    assert cover.uploaded_by_user == teller
    assert cover.file_size > 0 and cover.file_hash
    assert os.path.exists(cover.file.path)
    with Image.open(cover.file.path) as stored:
        assert stored.format == "PNG"


@pytest.mark.parametrize("format", ["JPEG", "PNG", "WEBP", "GIF"])
def test_each_accepted_format_is_stored(teller_client, format):
    upload = SimpleUploadedFile(f"picture.{format.lower()}", image_bytes(format=format))
    assert share_with_image(teller_client, upload).status_code == 302
    assert StoryPage.objects.get().cover_image is not None


def test_the_content_decides_the_type_not_the_name(teller_client):
    upload = SimpleUploadedFile("actually-a-png.jpg", image_bytes(format="PNG"), content_type="image/jpeg")
    assert share_with_image(teller_client, upload).status_code == 302
    assert StoryPage.objects.get().cover_image.file.name.endswith(".png")


def test_a_picture_without_an_extension_is_taken_by_its_content(teller_client):
    upload = SimpleUploadedFile("blob", image_bytes(format="WEBP"), content_type="application/octet-stream")
    assert share_with_image(teller_client, upload).status_code == 302
    assert StoryPage.objects.get().cover_image.file.name.endswith(".webp")


def test_an_empty_file_is_refused(teller_client):
    response = share_with_image(teller_client, SimpleUploadedFile("empty.png", b""))
    assert "This file is empty. Please choose an image." in response.content.decode()
    assert StoryPage.objects.count() == 0


def test_a_text_file_named_jpg_is_refused(teller_client):
    upload = SimpleUploadedFile(
        "holiday.jpg", b"this is not a picture at all\n" * 20, content_type="image/jpeg"
    )
    response = share_with_image(teller_client, upload)
    page = response.content.decode()
    assert response.status_code == 200
    assert "This file is not a JPEG, PNG, WebP or GIF image, whatever its name says." in page
    assert StoryPage.objects.count() == 0
    assert get_image_model().objects.count() == 0


def test_another_image_format_is_refused(teller_client):
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "blue").save(buffer, format="BMP")
    response = share_with_image(teller_client, SimpleUploadedFile("scan.bmp", buffer.getvalue()))
    assert "This file is not a JPEG, PNG, WebP or GIF image" in response.content.decode()
    assert StoryPage.objects.count() == 0


def test_wagtails_image_limits_are_the_configured_ones():
    assert django_settings.WAGTAILIMAGES_MAX_UPLOAD_SIZE == django_settings.MAX_IMAGE_MB * 1024 * 1024
    assert django_settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS == django_settings.MAX_IMAGE_PIXELS


def test_the_form_states_the_configured_size_limit(teller_client, image_limits):
    image_limits(megabytes=3)
    assert "JPEG, PNG, WebP or GIF, up to 3 MB." in teller_client.get("/share/").content.decode()


def test_an_image_over_the_size_limit_is_refused(teller_client, image_limits):
    image_limits(megabytes=1)
    noise = Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")
    assert buffer.tell() > 1024 * 1024
    response = share_with_image(teller_client, SimpleUploadedFile("noise.png", buffer.getvalue()))
    page = response.content.decode()
    assert response.status_code == 200
    assert "the limit is 1 MB" in page
    assert StoryPage.objects.count() == 0


def test_an_image_over_the_pixel_limit_is_refused_as_a_bomb(teller_client, image_limits):
    image_limits(pixels=1_000_000)
    upload = image_upload("wide.png", size=(2000, 1000), mode="L", color=0)
    response = share_with_image(teller_client, upload)
    page = response.content.decode()
    assert response.status_code == 200
    assert "This image is 2,000 × 1,000 pixels (2 megapixels); the limit is 1 megapixels." in page
    assert "decompression bomb" in page
    assert StoryPage.objects.count() == 0


def test_a_decompression_bomb_beyond_pillows_own_limit_is_refused_not_a_crash(teller_client):
    # A few kilobytes that would unpack to 400 million pixels: Pillow itself refuses to open it.
    upload = image_upload("bomb.png", size=(20_000, 20_000), mode="1", color=0)
    assert upload.size < 200_000
    response = share_with_image(teller_client, upload)
    page = response.content.decode()
    assert response.status_code == 200
    assert "decompression bomb" in page
    assert StoryPage.objects.count() == 0


def test_a_truncated_image_is_refused_as_damaged(teller_client):
    data = image_bytes(format="JPEG", size=(400, 300))
    response = share_with_image(teller_client, SimpleUploadedFile("cut.jpg", data[: len(data) // 2]))
    assert "could not be read; the file may be damaged" in response.content.decode()
    assert StoryPage.objects.count() == 0


def test_a_picture_needs_a_description_for_screen_readers(teller_client):
    response = teller_client.post("/share/", {**story_data(), "image": image_upload()})
    assert "Please describe the picture in a few words" in response.content.decode()


def test_a_valid_picture_must_be_chosen_again_after_other_errors(teller_client):
    response = share_with_image(teller_client, image_upload(), title="")
    assert "please choose it again" in response.content.decode()
