"""The in-browser recorder, for real: Chromium's fake microphone plays a spoken clip, MediaRecorder
records it, the page sends it, the live worker transcribes it, and the status page turns to
"Draft ready" without a reload."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser_harness import STAFF, axe_violations, launch_chromium, open_page, sign_in, snap
from tests.capture.fixtures.speech import speak

pytestmark = [pytest.mark.browser, pytest.mark.whisper, pytest.mark.slow]


@pytest.fixture
def microphone_saying(playwright_driver, tmp_path):
    """A Chromium whose fake microphone keeps saying one sentence."""
    browsers = []

    def launch(sentence: str):
        clip = speak(tmp_path, sentence, name="microphone")
        browser = launch_chromium(
            playwright_driver,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={clip}",
        )
        browsers.append(browser)
        return browser

    yield launch
    for browser in browsers:
        browser.close()


def test_recorded_clip_is_sent_transcribed_and_shown_as_a_draft(
    microphone_saying, request, artifacts, live_storybank
):
    browser = microphone_saying("Our team kept losing track of customer questions.")
    page = open_page(browser, request, artifacts, base_url=live_storybank.base_url)
    sign_in(page, *STAFF, next_path="/share/voice/")
    page.goto("/share/voice/")
    recorder = page.get_by_role("region", name="Record in your browser")
    expect(recorder).to_be_visible()
    assert axe_violations(page) == []
    recorder.get_by_label("Free: one clip, in your own words").check()
    clip = recorder.get_by_role("group", name="Your story")
    send = recorder.get_by_role("button", name="Send for transcription")
    expect(send).to_be_disabled()

    clip.get_by_role("button", name="Record").click()
    expect(clip.locator("[data-state]")).to_have_text("Recording…")
    page.wait_for_function(
        "el => parseFloat(el.style.width) > 0",
        arg=clip.locator("[data-meter]").element_handle(),
        timeout=5000,
    )
    expect(clip.locator("[data-timer]")).to_have_text(re.compile(r"0:0[4-9]"), timeout=10_000)
    snap(page, artifacts, "1-recording")
    clip.get_by_role("button", name="Stop").click()

    playback = clip.locator("audio")
    expect(playback).to_have_count(1)
    expect(clip.get_by_role("button", name="Record again")).to_be_visible()
    expect(clip.get_by_role("button", name="Record", exact=True)).to_be_hidden()
    expect(send).to_be_enabled()
    snap(page, artifacts, "2-recorded")

    send.click()
    page.wait_for_url(re.compile(r"/share/\d+/$"), timeout=30_000)
    expect(page.locator("[data-state-label]")).to_have_text("Draft ready", timeout=180_000)
    expect(page.locator("[data-transcript]")).to_contain_text(re.compile("customer", re.IGNORECASE))
    snap(page, artifacts, "3-draft-ready")
    assert axe_violations(page) == []
    submission = live_storybank.query(
        "import json; from capture.models import ClipSubmission; s = ClipSubmission.objects.latest('pk'); "
        "print(json.dumps({'type': s.parts.get().clip.content_type, 'source': s.story.source, "
        "'title': s.story.title}))"
    )
    assert submission["type"] in ("audio/webm", "audio/ogg", "audio/mp4")
    assert submission["source"] == "voice"
