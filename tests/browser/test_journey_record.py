"""Journey 3, record in the browser: the guided recorder's three answers become the draft's three fields.

Chromium's fake microphone plays a spoken WAV (looped) into getUserMedia, so MediaRecorder
records real speech and the worker's Whisper transcribes it.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser_harness import STAFF, launch_chromium, open_page, signed_in_state, snap
from tests.capture.fixtures.speech import speak

pytestmark = [pytest.mark.browser, pytest.mark.whisper]

SPOKEN = "Sharing the weekly report in the team channel saved everyone an hour."
SPOKEN_WORDS = {"sharing", "weekly", "report", "team", "channel", "saved", "everyone", "hour"}
PROMPTS = ["The situation", "The aha moment", "What changed"]
RECORD_MS = 3500


@pytest.fixture
def microphone_chromium(playwright_driver, tmp_path_factory):
    """A second Chromium whose microphone says SPOKEN, and which grants microphone access unasked."""
    clip = speak(tmp_path_factory.mktemp("microphone"), SPOKEN, name="microphone")
    browser = launch_chromium(
        playwright_driver,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={clip}",
    )
    yield browser
    browser.close()


def test_three_guided_answers_recorded_in_the_browser_fill_the_draft(
    microphone_chromium, request, artifacts, live_storybank
):
    base_url = live_storybank.base_url
    staff = signed_in_state(microphone_chromium, base_url, *STAFF)
    teller = open_page(microphone_chromium, request, artifacts, base_url=base_url, storage_state=staff)
    teller.context.grant_permissions(["microphone"])
    teller.goto("/share/voice/")
    recorder = teller.get_by_role("region", name="Record in your browser")
    expect(recorder).to_be_visible()
    expect(recorder.get_by_label("Guided: three short answers")).to_be_checked()
    send = recorder.get_by_role("button", name="Send for transcription")
    expect(send).to_be_disabled()

    for number, prompt in enumerate(PROMPTS, start=1):
        step = recorder.get_by_role("group", name=re.compile(prompt))
        step.get_by_role("button", name="Record", exact=True).click()
        expect(step.get_by_role("status")).to_have_text("Recording…")
        teller.wait_for_timeout(RECORD_MS)
        if number == 1:
            snap(teller, artifacts, "1-recording-situation")
        step.get_by_role("button", name="Stop").click()
        expect(step.get_by_role("status")).to_contain_text("Recorded 0:0")
        expect(step.locator("audio")).to_have_count(1)  # the answer can be played back
        expect(recorder.locator("[data-send-status]")).to_have_text(f"{number} of 3 clips recorded.")

    recorder.get_by_label("I agree that this story may be published").check()
    snap(teller, artifacts, "2-three-answers-recorded")
    expect(send).to_be_enabled()
    send.click()
    teller.wait_for_url(re.compile(r"/share/\d+/$"))
    expect(teller.locator("[data-state-label]")).to_have_text("Draft ready", timeout=120_000)
    snap(teller, artifacts, "3-recorded-draft-ready")
    submission_id = int(re.search(r"/share/(\d+)/$", teller.url).group(1))

    draft = live_storybank.query(
        "import json; from capture.models import ClipSubmission; "
        f"submission = ClipSubmission.objects.get(pk={submission_id}); "
        "story = submission.story.get_latest_revision_as_object(); "
        "print(json.dumps({'mode': submission.mode, 'parts': submission.parts.count(), "
        "'context': story.context, 'aha': story.aha, 'outcome': story.outcome, "
        "'media': [p.clip.content_type for p in submission.parts.select_related('clip')]}))"
    )
    assert draft["mode"] == "guided"
    assert draft["parts"] == 3
    assert all(kind.startswith("audio/") for kind in draft["media"]), draft["media"]
    for field in ("context", "aha", "outcome"):
        heard = set(re.findall(r"[a-z]+", draft[field].lower()))
        assert heard & SPOKEN_WORDS, f"the {field} answer was transcribed into the draft: {draft[field]!r}"
