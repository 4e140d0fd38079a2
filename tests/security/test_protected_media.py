"""Media decisions are taken on the file that would be sent; in production the front server sends it."""

import pytest
from django.core.files.base import ContentFile

from stories.models import Clip
from tests.factories import StoryPageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft_clip():
    clip = Clip(original_name="draft.wav")
    clip.file.save("draft.wav", ContentFile(b"DRAFT-AUDIO" * 50), save=True)
    StoryPageFactory(clip=clip, publish=False)
    return clip


@pytest.fixture
def public_clip():
    clip = Clip(original_name="public.wav")
    clip.file.save("public.wav", ContentFile(b"PUBLIC-AUDIO" * 50), save=True)
    StoryPageFactory(clip=clip)
    return clip


@pytest.mark.parametrize(
    "prefix", ["/media/./", "/media/%2e/", "/media/%2E/", "/media//", "/media/clips/../"]
)
def test_a_drafts_clip_is_refused_under_every_spelling_of_its_path(client, draft_clip, prefix):
    assert client.get(f"{prefix}{draft_clip.file.name}").status_code == 404


def test_in_production_nginx_sends_the_file_after_the_check(client, settings, public_clip):
    settings.PROTECTED_MEDIA_SERVER = "nginx"
    response = client.get(f"/media/./{public_clip.file.name}")
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{public_clip.file.name}"
    assert response.content == b""


def test_in_production_a_refused_file_gets_no_redirect_header(client, settings, draft_clip):
    settings.PROTECTED_MEDIA_SERVER = "nginx"
    response = client.get(f"/media/{draft_clip.file.name}")
    assert response.status_code == 404
    assert not response.has_header("X-Accel-Redirect")


def test_apache_gets_the_absolute_path_in_x_sendfile(client, settings, public_clip):
    settings.PROTECTED_MEDIA_SERVER = "apache"
    response = client.get(f"/media/{public_clip.file.name}")
    assert response["X-Sendfile"] == str((settings.MEDIA_ROOT / public_clip.file.name).resolve())


def test_a_symlink_out_of_the_media_folder_is_refused_even_to_editors(client, settings, tmp_path):
    from tests.factories import make_editor

    client.force_login(make_editor())
    secret = tmp_path / "outside.txt"
    secret.write_text("outside the media folder")
    (settings.MEDIA_ROOT / "documents").mkdir(exist_ok=True)
    (settings.MEDIA_ROOT / "documents" / "link.txt").symlink_to(secret)
    assert client.get("/media/documents/link.txt").status_code == 404


def test_files_that_could_run_script_are_downloads(client, settings):
    from tests.factories import make_editor

    (settings.MEDIA_ROOT / "documents").mkdir(exist_ok=True)
    (settings.MEDIA_ROOT / "documents" / "page.svg").write_text("<svg onload=alert(1)></svg>")
    client.force_login(make_editor())
    response = client.get("/media/documents/page.svg")
    assert response["Content-Disposition"] == "attachment"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_accel_redirect_path_is_percent_encoded(client, settings):
    from tests.factories import make_editor

    settings.PROTECTED_MEDIA_SERVER = "nginx"
    (settings.MEDIA_ROOT / "documents").mkdir(exist_ok=True)
    (settings.MEDIA_ROOT / "documents" / "a?b#c.txt").write_text("x")
    client.force_login(make_editor())
    response = client.get("/media/documents/a%3Fb%23c.txt")
    assert response["X-Accel-Redirect"] == "/protected-media/documents/a%3Fb%23c.txt"
