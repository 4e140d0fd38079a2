"""The share form in Chromium: autosave survives a closed tab, people search as you type, accessibility."""

import json

import pytest

from tests.browser_harness import STAFF, axe_violations, sign_in, snap

pytestmark = pytest.mark.browser

PERSON = "Priyanka Oduya"


@pytest.fixture
def directory_person(live_storybank):
    live_storybank.query(
        "import json; from stories.models import Person; "
        f"Person.objects.get_or_create(name={PERSON!r}, defaults={{'team': 'Research', 'role': 'Analyst'}}); "
        "print(json.dumps(True))"
    )
    return PERSON


def autosaved(page) -> list[dict]:
    raw = page.evaluate(
        "() => Object.keys(localStorage).filter(k => k.startsWith('storybank:share:')).map(k => localStorage.getItem(k))"
    )
    return [json.loads(item) for item in raw]


def test_typed_story_survives_a_closed_tab_and_is_forgotten_after_sending(
    page, artifacts, directory_person, live_storybank
):
    sign_in(page, *STAFF, next_path="/share/")
    page.goto("/share/")
    page.get_by_label("Give your story a title").fill("The spreadsheet nobody opened")
    page.get_by_label("What was your aha moment?").fill(
        "A two-line summary at the top got everyone reading it."
    )

    people_box = page.get_by_role("combobox", name="People involved")
    people_box.press_sequentially("Priyan", delay=30)
    option = page.get_by_role("option", name=directory_person)
    option.wait_for()
    people_box.press("ArrowDown")
    people_box.press("Enter")
    assert page.get_by_role("checkbox", name=directory_person).is_checked()
    people_box.fill("Someone New")
    page.wait_for_timeout(600)  # the autosave waits for a pause in typing
    assert autosaved(page)[0]["values"]["title"] == "The spreadsheet nobody opened"

    # The tab is closed; the teller comes back later in the same browser.
    context = page.context
    page.close()
    again = context.new_page()
    again.goto("/share/")
    notice = again.get_by_role("status").filter(has_text="We brought back what you were writing")
    notice.wait_for()
    assert again.get_by_label("Give your story a title").input_value() == "The spreadsheet nobody opened"
    assert "two-line summary" in again.get_by_label("What was your aha moment?").input_value()
    assert again.get_by_role("checkbox", name=directory_person).is_checked()
    assert again.get_by_role("combobox", name="People involved").input_value() == "Someone New"
    snap(again, artifacts, "share-form-restored")

    again.get_by_label("What was the situation?").fill("Our weekly numbers went out as a 40-tab spreadsheet.")
    again.get_by_label("What changed? What was the result?").fill(
        "Questions about the numbers dropped by half."
    )
    again.get_by_label("When did it happen?").fill("2026-05-04")
    again.get_by_label("Propose a new theme").fill("Writing for busy readers")
    again.get_by_label("Staff only").check()
    again.get_by_label("I agree that Storybank may publish this story").check()
    again.get_by_role("button", name="Send my story to the editors").click()
    again.get_by_role("heading", name="Thank you: your story is with the editors").wait_for()
    snap(again, artifacts, "share-done")
    assert autosaved(again) == []

    story = live_storybank.query(
        "import json; from stories.models import StoryPage; "
        "s = StoryPage.objects.get(title='The spreadsheet nobody opened'); "
        "print(json.dumps({'people': sorted(s.people_names), 'in_review': s.workflow_in_progress, 'live': s.live}))"
    )
    assert story == {"people": ["Priyanka Oduya", "Someone New"], "in_review": True, "live": False}


def test_share_form_and_my_stories_have_no_serious_accessibility_violations(page, artifacts):
    sign_in(page, *STAFF, next_path="/share/")
    page.goto("/share/")
    snap(page, artifacts, "share-form")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Send my story to the editors").click()
    page.get_by_role("alert").first.wait_for()
    snap(page, artifacts, "share-form-errors")
    assert axe_violations(page) == []
    page.goto("/share/mine/")
    snap(page, artifacts, "my-stories")
    assert axe_violations(page) == []
