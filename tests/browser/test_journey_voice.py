"""Journey 2, tell by voice: upload a spoken clip, watch the draft appear, correct it, find it, play the moment."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser_harness import (
    ADMIN,
    STAFF,
    axe_violations,
    open_page,
    signed_in_state,
    snap,
    wait_until,
)
from tests.capture.fixtures.speech import speak

pytestmark = [pytest.mark.browser, pytest.mark.whisper]

PAUSE = '<break time="1500ms"/>'
# About 45 s of speech in short sentences: long enough for several timed transcript segments, with
# the aha moment (and the word readers will search for) near the end.
SENTENCES = [
    "Every month our support team answered the same question about invoices.",
    "Customers wrote to us because the invoice total did not match the order.",
    "Each answer took twenty minutes, and we wrote the same answer again and again.",
    "Nobody had time to fix the cause, because the queue was always full.",
    "We tried a shared mailbox, and then a rota, and neither of them helped for long.",
    "One afternoon I asked the finance team how they explained the totals.",
    "Then I realised the answer was already written in the wiki.",
    "Now we send customers the wiki page, and we save two hours every week.",
]
SPOKEN = f"<speak>{f' {PAUSE} '.join(SENTENCES)}</speak>"
# What the editor makes of the last line after listening to it (the small model mishears "wiki").
CORRECTED_LINE = " ".join(SENTENCES[-2:])


def test_spoken_story_becomes_a_draft_is_corrected_and_plays_from_the_searched_moment(
    chromium, request, artifacts, live_storybank, tmp_path
):
    clip = speak(tmp_path, SPOKEN, name="invoices", rate=140)

    # The storyteller uploads the clip and stays on the status page while the worker transcribes.
    base_url = live_storybank.base_url
    teller = open_page(
        chromium,
        request,
        artifacts,
        base_url=base_url,
        storage_state=signed_in_state(chromium, base_url, *STAFF),
    )
    teller.goto("/share/voice/")
    upload = teller.get_by_role("region", name="Upload a recording")
    upload.get_by_label("One clip with the whole story").check()
    upload.get_by_label("Your clip").set_input_files(str(clip))
    upload.get_by_label("Public").check()
    upload.get_by_label("I agree that this story may be published").check()
    snap(teller, artifacts, "1-voice-upload")
    upload.get_by_role("button", name="Upload and transcribe").click()
    teller.wait_for_url(re.compile(r"/share/\d+/$"))
    status_url = teller.url
    teller.evaluate("() => { window.__sameDocument = true; }")  # gone if the page reloads
    badge = teller.locator("[data-state-label]")
    assert badge.text_content().strip() in {"Queued", "Transcribing"}, (
        "the page opens before the draft exists"
    )
    snap(teller, artifacts, "2-voice-status-waiting")

    expect(badge).to_have_text("Draft ready", timeout=120_000)
    assert teller.url == status_url
    assert teller.evaluate("() => window.__sameDocument === true"), "the status page reloaded itself"
    expect(teller.get_by_text("Your draft is ready and has gone to the editors for review.")).to_be_visible()
    expect(teller.locator("[data-transcript]")).to_contain_text("invoices")
    snap(teller, artifacts, "3-voice-status-draft-ready")
    assert axe_violations(teller) == []

    story_id = int(teller.locator("[data-admin-link]").get_attribute("href").rstrip("/").split("/")[-2])

    # The editor corrects the misheard line in the transcript, picks a theme, and publishes.
    editor = open_page(
        chromium,
        request,
        artifacts,
        base_url=base_url,
        storage_state=signed_in_state(chromium, base_url, *ADMIN),
    )
    editor.goto(f"/admin/pages/{story_id}/edit/")
    editor.get_by_role("tab", name="Media & transcript").click()
    segments = editor.locator("textarea[name^='transcript_segments-'][name$='-text']")
    expect(segments.first).to_be_visible()
    texts = [segments.nth(i).input_value() for i in range(segments.count())]
    line = next((i for i, text in enumerate(texts) if "send customers" in text.lower()), None)
    assert line is not None, f"the last sentence was transcribed: {texts}"
    line_start = float(editor.locator(f"input[name='transcript_segments-{line}-start']").input_value())
    assert line_start > 0, f"the last sentence has its own moment in the clip: {texts}"
    segments.nth(line).fill(CORRECTED_LINE)
    snap(editor, artifacts, "4-admin-transcript-corrected")
    editor.get_by_role("tab", name="People & themes").click()
    editor.get_by_label("Knowledge reuse").check()
    editor.get_by_role("button", name="More actions").click()
    approve = editor.get_by_role("button", name="Approve and Publish", exact=True)
    (approve if approve.is_visible() else editor.get_by_role("button", name="Publish", exact=True)).click()
    editor.wait_for_url(lambda url: "/edit/" not in url)

    story = live_storybank.query(
        "import json; from stories.models import StoryPage; "
        f"s = StoryPage.objects.get(pk={story_id}); "
        "print(json.dumps({'live': s.live, 'url': s.url, 'transcript': s.transcript_text}))"
    )
    assert story["live"]
    assert CORRECTED_LINE in story["transcript"]

    # A reader searches words the teller said: one Whisper heard, and the one the editor corrected;
    # the transcript hit plays the clip from that moment.
    reader = open_page(chromium, request, artifacts, base_url=live_storybank.base_url)
    wait_until(
        lambda: reader.goto("/search/?q=invoices") and reader.locator(f"a[href='{story['url']}']").count(),
        timeout=30,
        message="the published story in search",
    )

    def result_with_hit():
        reader.goto("/search/?q=wiki")
        result = reader.locator("li.result").filter(has=reader.locator(f"a[href='{story['url']}']"))
        return result if result.locator(".result__play").count() else None

    result = wait_until(result_with_hit, timeout=30, message="a transcript hit for the corrected word")
    play = result.get_by_role("link", name=re.compile(r"Play from \d+:\d\d")).first
    expect(result.locator(".result__line mark").first).to_have_text(re.compile("wiki", re.IGNORECASE))
    snap(reader, artifacts, "5-search-transcript-hit")
    start = float(re.search(r"[?&]t=([\d.]+)", play.get_attribute("href")).group(1))
    assert abs(start - float(line_start)) < 0.1, "the hit plays from the corrected line's moment"
    play.click()
    reader.wait_for_url(re.compile(r"\?t=[\d.]+$"))
    audio = reader.locator("audio.clip-player")
    reader.wait_for_function(
        "([media, start]) => media.readyState >= 1 && media.currentTime > start - 0.5",
        arg=[audio.element_handle(), start],
        timeout=15_000,
    )
    expect(reader.get_by_text(re.compile(r"Starts at \d+:\d\d"))).to_be_visible()
    snap(reader, artifacts, "6-story-plays-from-moment")
    assert axe_violations(reader) == [], "the story page with its clip and transcript"
