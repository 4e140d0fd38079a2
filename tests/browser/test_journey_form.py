"""Journey 1, tell by form: a storyteller shares a story, an editor approves it, a reader finds it by theme."""

import io
import re
import uuid

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from tests.browser_harness import ADMIN, STAFF, open_page, sign_in, snap, wait_until

pytestmark = pytest.mark.browser


def picture_png() -> bytes:
    """A small real PNG, as a phone would upload it: a sky, a sun and a field."""
    image = Image.new("RGB", (640, 400), "#9ad0ec")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 260, 640, 400), fill="#4f8a3d")
    draw.ellipse((480, 40, 580, 140), fill="#f6c445")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_story_told_by_form_is_approved_and_found_under_its_new_theme(
    chromium, request, artifacts, live_storybank
):
    marker = uuid.uuid4().hex[:6]
    title = f"The checklist that ended Friday firefights {marker}"
    theme = f"Release rituals {marker}"

    # The storyteller shares a story with a picture and a theme nobody has proposed before.
    teller = open_page(chromium, request, artifacts, base_url=live_storybank.base_url)
    sign_in(teller, *STAFF, next_path="/share/")
    teller.goto("/share/")
    teller.get_by_label("Give your story a title").fill(title)
    teller.get_by_label("What was the situation?").fill(
        "Every Friday release broke something and the whole team stayed late to fix it."
    )
    teller.get_by_label("What was your aha moment?").fill(
        "Marta showed me the pilots' pre-flight checklist: the failures were always the same five steps."
    )
    teller.get_by_label("What changed? What was the result?").fill(
        "We release with a ten-line checklist now and have not had a Friday firefight since March."
    )
    teller.get_by_label("When did it happen?").fill("2026-03-13")
    teller.get_by_label("Propose a new theme").fill(theme)
    teller.get_by_label("Choose a picture").set_input_files(
        {"name": "checklist.png", "mimeType": "image/png", "buffer": picture_png()}
    )
    teller.get_by_label("Describe the picture for people who can’t see it").fill(
        "A sunny field under a blue sky"
    )
    teller.get_by_label("Public").check()
    teller.get_by_label("I agree that Storybank may publish this story").check()
    snap(teller, artifacts, "1-share-form-filled")
    teller.get_by_role("button", name="Send my story to the editors").click()
    teller.get_by_role("heading", name="Thank you: your story is with the editors").wait_for()
    snap(teller, artifacts, "2-share-done")

    teller.get_by_role("link", name="Go to My stories").click()
    mine = teller.locator(".my-story", has_text=title)
    expect(mine).to_have_count(1)  # waits for the page the link opens
    expect(mine.locator(".badge").first).to_have_text("In review")
    snap(teller, artifacts, "3-my-stories-in-review")

    # The editor signs in to the admin and approves the proposed theme from the dashboard's link to
    # the proposed themes ("tick them in the list and choose Approve"), so the story is filed under a
    # theme readers can see: story pages and the share form only show approved themes.
    editor = open_page(chromium, request, artifacts, base_url=live_storybank.base_url)
    editor.goto("/admin/login/")
    editor.get_by_label("Username").fill(ADMIN[0])
    editor.get_by_label("Password").fill(ADMIN[1])
    editor.get_by_role("button", name="Sign in").click()
    editor.wait_for_url(re.compile(r"/admin/$"))
    editor.get_by_role("link", name=re.compile("proposed theme")).first.click()
    editor.get_by_role("row").filter(has_text=theme).get_by_role("checkbox", name="Select").check()
    editor.get_by_role("link", name="Approve the selected themes").click()
    expect(editor.get_by_role("link", name=theme)).to_be_visible()
    editor.get_by_role("button", name="Yes, approve").click()
    expect(editor.get_by_text("1 theme approved.")).to_be_visible()
    assert live_storybank.query(
        "import json; from stories.models import Theme; "
        f"print(json.dumps(Theme.objects.get(name={theme!r}).is_approved))"
    )

    # The story waits on the dashboard; the editor opens it and approves the "Editorial review" task.
    editor.goto("/admin/")
    awaiting = editor.get_by_role("link", name=title)
    awaiting.first.click()
    editor.wait_for_url(re.compile(r"/admin/pages/\d+/edit/"))
    snap(editor, artifacts, "4-admin-story-in-review")
    editor.get_by_role("button", name="More actions").click()
    editor.get_by_role("button", name="Approve and Publish", exact=True).click()
    editor.wait_for_url(lambda url: "/edit/" not in url)
    editor.wait_for_load_state()
    snap(editor, artifacts, "5-admin-approved")

    story = live_storybank.query(
        "import json; from stories.models import StoryPage; "
        f"s = StoryPage.objects.get(title={title!r}); "
        "print(json.dumps({'live': s.live, 'url': s.url, 'image': bool(s.cover_image_id)}))"
    )
    assert story["live"], "approving the Editorial review task publishes the story"
    assert story["image"], "the uploaded picture became the story's cover"

    # The story is on the site, with its picture and its (now approved) theme.
    reader = open_page(chromium, request, artifacts, base_url=live_storybank.base_url)
    reader.goto(story["url"])
    assert reader.get_by_role("heading", level=1).inner_text() == title
    assert reader.locator("img.story-cover").get_attribute("alt") == "A sunny field under a blue sky"
    assert reader.locator(".story-header__themes").get_by_role("link", name=theme).count() == 1
    snap(reader, artifacts, "6-story-published")

    # The teller sees it published in My stories.
    teller.reload()
    expect(mine.locator(".badge").first).to_have_text("Published")

    # A reader finds it by searching and narrowing to its theme facet (the index catches up in ~1 s).
    def found_under_theme() -> bool:
        reader.goto("/search/?q=checklist")
        facet = reader.get_by_role("checkbox", name=theme)
        if facet.count() == 0:
            return False
        facet.check()  # filters apply as soon as they change
        reader.wait_for_url(re.compile(r"theme="))
        return reader.locator(".results").get_by_role("link", name=title).count() == 1

    wait_until(found_under_theme, timeout=30, message=f"{title!r} under the {theme!r} facet in search")
    assert reader.get_by_role("link", name=re.compile(f"Remove filter Theme: {theme}")).count() == 1
    snap(reader, artifacts, "7-search-theme-facet")
