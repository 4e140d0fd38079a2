"""`setup_storybank` (run by `make run`) can run any number of times without duplicating anything."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from wagtail.models import Page

from operations.accounts import read_credentials

pytestmark = pytest.mark.django_db


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


def test_setup_creates_editor_and_staff_with_generated_passwords(var_dir, monkeypatch, client):
    for name in (
        "STORYBANK_ADMIN_USER",
        "STORYBANK_ADMIN_PASSWORD",
        "STORYBANK_STAFF_USER",
        "STORYBANK_STAFF_PASSWORD",
    ):
        monkeypatch.delenv(name, raising=False)
    call_command("setup_storybank", "--no-demo")
    credentials = read_credentials(var_dir / "credentials")
    assert oct((var_dir / "credentials").stat().st_mode & 0o777) == "0o600"
    editor_name, editor_password = credentials["editor"]
    staff_name, staff_password = credentials["staff"]
    User = get_user_model()
    assert User.objects.get(username=editor_name).is_superuser
    assert User.objects.get(username=editor_name).groups.filter(name="Editors").exists()
    assert User.objects.get(username=staff_name).groups.filter(name="Storytellers").exists()
    assert not User.objects.get(username=staff_name).is_superuser
    assert client.login(username=editor_name, password=editor_password)
    assert client.login(username=staff_name, password=staff_password)


def test_second_setup_duplicates_nothing_and_keeps_passwords(var_dir, monkeypatch, client):
    monkeypatch.delenv("STORYBANK_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("STORYBANK_STAFF_PASSWORD", raising=False)
    call_command("setup_storybank", "--no-demo")
    first = read_credentials(var_dir / "credentials")
    users, pages = get_user_model().objects.count(), Page.objects.count()
    call_command("setup_storybank", "--no-demo")
    assert read_credentials(var_dir / "credentials") == first
    assert get_user_model().objects.count() == users
    assert Page.objects.count() == pages
    assert client.login(username=first["editor"][0], password=first["editor"][1])


def test_accounts_from_the_environment(var_dir, monkeypatch, client):
    monkeypatch.setenv("STORYBANK_ADMIN_USER", "chief")
    monkeypatch.setenv("STORYBANK_ADMIN_PASSWORD", "a long editor password")
    monkeypatch.setenv("STORYBANK_STAFF_USER", "sam")
    monkeypatch.setenv("STORYBANK_STAFF_PASSWORD", "a long staff password")
    call_command("setup_storybank", "--no-demo")
    assert client.login(username="chief", password="a long editor password")
    assert client.login(username="sam", password="a long staff password")
    assert "a long staff password" not in (var_dir / "credentials").read_text()


def test_setup_points_the_site_at_site_url(var_dir, settings):
    from wagtail.models import Site

    from stories.models import StoryIndexPage

    settings.WAGTAILADMIN_BASE_URL = "https://stories.example.org"
    call_command("setup_storybank", "--no-demo")
    site = Site.objects.get(is_default_site=True)
    assert (site.hostname, site.port) == ("stories.example.org", 443)
    assert StoryIndexPage.objects.get().full_url == "https://stories.example.org/stories/"
