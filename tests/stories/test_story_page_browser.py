"""The story page in a real browser: the transcript player (?t=, click to seek, highlight), "This helped me"
without a reload, and no serious accessibility violations."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files import File
from django.test import Client

from stories.models import Clip, StoryPage
from tests.browser_harness import axe_violations, chromium_browser, chromium_installed
from tests.factories import StoryPageFactory, UserFactory
from tests.stories.story_helpers import add_transcript

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LINES = [
    (0.0, 10.0, "Opening line."),
    (10.0, 10.8, "A short beat."),
    (10.8, 30.0, "After the beat."),
    (83.0, 90.0, "The aha."),
]


def tone_clip(path: Path, seconds: int = 100) -> Path:
    """A real, seekable audio file (a quiet tone) made by ffmpeg."""
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=440:duration={seconds}",
            "-ac",
            "1",
            "-ar",
            "8000",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    return path


@pytest.fixture
def story_path(tmp_path) -> str:
    """The URL path of a story with a 100 s audio clip and a timed transcript."""
    if not chromium_installed() or shutil.which("ffmpeg") is None:
        pytest.fail("This test needs Debian's chromium and ffmpeg")
    story = StoryPageFactory(title="Told with a tone")
    clip = Clip(media_kind=Clip.MediaKind.AUDIO, content_type="audio/wav", duration=100.0)
    with tone_clip(tmp_path / "tone.wav").open("rb") as handle:
        clip.file.save("tone.wav", File(handle), save=True)
    StoryPage.objects.filter(pk=story.pk).update(clip=clip)
    add_transcript(story, LINES)
    return StoryPage.objects.get(pk=story.pk).url


@pytest.fixture
def live_server(transactional_db, monkeypatch):
    """A live Storybank whose /media/ goes through its own range-serving view, as in production.

    Django's test server would otherwise answer /media/ itself, without byte ranges, and a browser
    cannot seek in media served that way.
    """
    from django.test import testcases
    from pytest_django.live_server_helper import LiveServer

    monkeypatch.setattr(testcases, "_MediaFilesHandler", lambda application: application)
    server = LiveServer("localhost", start=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def browser_page(live_server, story_path):
    """Chromium, started after the test data exists (Playwright's event loop blocks the ORM)."""
    with chromium_browser("--autoplay-policy=no-user-gesture-required") as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
    assert errors == []


def wait_for_time(page, low: float, high: float) -> None:
    page.wait_for_function(
        f"() => {{ const t = document.querySelector('audio').currentTime; return t >= {low} && t <= {high}; }}",
        timeout=15_000,
    )


def test_t_parameter_starts_the_clip_at_that_second(live_server, browser_page, story_path):
    url = f"{live_server.url}{story_path}?t=83"
    browser_page.goto(url)
    browser_page.wait_for_selector("[data-transcript-player][data-player-ready]")
    wait_for_time(browser_page, 82.9, 84.5)
    assert browser_page.locator("li.is-current").inner_text().endswith("The aha.")


def test_clicking_a_line_plays_from_it_and_the_highlight_follows_playback(
    live_server, browser_page, story_path
):
    browser_page.goto(f"{live_server.url}{story_path}")
    browser_page.wait_for_selector("[data-transcript-player][data-player-ready]")
    browser_page.get_by_role("link", name="0:10 A short beat.").click()
    wait_for_time(browser_page, 10.0, 10.8)
    assert browser_page.locator("li.is-current").inner_text().endswith("A short beat.")
    assert browser_page.locator("li.is-current a").get_attribute("aria-current") == "true"
    assert "t=10" in browser_page.url
    # Playing on past the short line moves the highlight to the next one.
    browser_page.wait_for_function(
        "() => document.querySelector('li.is-current')?.textContent.includes('After the beat.')",
        timeout=15_000,
    )
    assert browser_page.evaluate("() => document.querySelector('audio').paused") is False


@pytest.fixture
def reader_session(story_path) -> str:
    """A signed-in reader's session cookie, made before the browser starts."""
    client = Client()
    client.force_login(UserFactory(username="reader"))
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_this_helped_me_toggles_without_reloading_the_page(
    live_server, reader_session, browser_page, story_path
):
    browser_page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": reader_session, "url": live_server.url}]
    )
    browser_page.goto(f"{live_server.url}{story_path}")
    button = browser_page.get_by_role("button", name="This helped me")
    assert button.get_attribute("aria-pressed") == "false"
    browser_page.evaluate("() => { window.notReloaded = true; }")
    button.click()
    browser_page.wait_for_function(
        "() => document.querySelector('[data-helpful-button]').ariaPressed === 'true'"
    )
    assert (
        browser_page.locator(".helpful__count").inner_text() == "1 person found this helpful, including you."
    )
    button.click()
    browser_page.wait_for_function(
        "() => document.querySelector('[data-helpful-button]').ariaPressed === 'false'"
    )
    assert browser_page.locator(".helpful__count").inner_text() == "0 people found this helpful."
    assert browser_page.evaluate("() => window.notReloaded") is True


def test_story_page_has_no_serious_accessibility_violations(live_server, browser_page, story_path):
    browser_page.goto(f"{live_server.url}{story_path}?t=83")
    assert axe_violations(browser_page) == []
