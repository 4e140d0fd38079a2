"""axe-core finds no serious or critical accessibility problems on the pages people use most."""

import pytest

from tests.browser_harness import (
    PHONE,
    STAFF,
    axe_violations,
    open_page,
    signed_in_state,
    snap,
)
from tests.capture.fixtures.speech import speak

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def story_with_clip_url(live_storybank) -> str:
    """A published story, one with a clip and transcript when the library has one."""
    return live_storybank.query(
        "import json; from stories.models import StoryPage; "
        "stories = StoryPage.objects.live().filter(visibility='public'); "
        "story = stories.filter(clip__isnull=False).first() or stories.first(); "
        "print(json.dumps(story.url))"
    )


@pytest.fixture(scope="module")
def staff_state(chromium, live_storybank) -> dict:
    return signed_in_state(chromium, live_storybank.base_url, *STAFF)


def assert_accessible(page, artifacts, name: str) -> None:
    """No serious or critical axe violations on a desktop, nor once the window is phone-sized."""
    snap(page, artifacts, name)
    desktop = axe_violations(page)
    page.set_viewport_size(PHONE)
    snap(page, artifacts, f"{name}-phone")
    phone = axe_violations(page)
    assert (desktop, phone) == ([], []), f"{name} ({page.url}): desktop {desktop}, phone {phone}"
    script_errors = [message for message in page.console_messages if message.startswith("pageerror")]
    assert script_errors == [], f"{name}: the page's scripts failed"


@pytest.mark.parametrize(
    "name, path",
    [
        ("home", "/"),
        ("library", "/stories/"),
        ("search-results", "/search/?q=customer&theme=customer-insight"),
        ("people", "/people/"),
    ],
)
def test_public_page_has_no_serious_accessibility_violations(page, artifacts, name, path):
    page.goto(path)
    assert_accessible(page, artifacts, name)


def test_story_page_has_no_serious_accessibility_violations(page, artifacts, story_with_clip_url):
    page.goto(story_with_clip_url)
    assert_accessible(page, artifacts, "story")


def test_share_form_has_no_serious_accessibility_violations(
    chromium, request, artifacts, live_storybank, staff_state
):
    page = open_page(
        chromium, request, artifacts, base_url=live_storybank.base_url, storage_state=staff_state
    )
    page.goto("/share/")
    assert_accessible(page, artifacts, "share-form")


def test_voice_and_status_pages_have_no_serious_accessibility_violations(
    chromium, request, artifacts, live_storybank, staff_state, tmp_path
):
    page = open_page(
        chromium, request, artifacts, base_url=live_storybank.base_url, storage_state=staff_state
    )
    page.goto("/share/voice/")
    assert_accessible(page, artifacts, "voice")

    clip = speak(tmp_path, "A short clip to see the status page.", name="short")
    upload = page.get_by_role("region", name="Upload a recording")
    upload.get_by_label("Your clip").set_input_files(str(clip))
    upload.get_by_role("button", name="Upload and transcribe").click()
    page.wait_for_url("**/share/*/")
    assert_accessible(page, artifacts, "clip-status")
