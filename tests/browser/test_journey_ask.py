"""Journey 5, ask: a colleague asks the library in their own words, from the home page; a story answers
one question in one click, another is posted to the board; an anonymous visitor sees none of it."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser_harness import STAFF, axe_violations, open_page, sign_in, snap

pytestmark = pytest.mark.browser

# The demo library answers this one (words of the story's own title, as a colleague would put them).
ANSWERED = "A question sat in my inbox for a week: how did someone get it answered?"
ANSWER_TITLE = "One post answered a question that had sat in my inbox for a week"
# ...and nothing in it answers this one.
UNANSWERED = "How do we calibrate the zebrafish aquarium heaters?"


def test_colleague_asks_from_home_closes_one_question_with_a_story_and_posts_another(
    chromium, request, artifacts, live_storybank
):
    page = open_page(chromium, request, artifacts, base_url=live_storybank.base_url)
    sign_in(page, *STAFF)

    # Home: the Ask box takes the question to /ask/, which shows what the library already knows.
    page.goto("/")
    page.get_by_label("Ask the library a question").fill(ANSWERED)
    page.get_by_role("button", name="Ask", exact=True).click()
    page.wait_for_url(re.compile(r"/ask/\?q="))
    expect(page.get_by_role("textbox", name="Your question")).to_have_value(ANSWERED)
    answer = page.locator("li.result", has_text=ANSWER_TITLE)
    expect(answer).to_be_visible()
    snap(page, artifacts, "ask-suggestions")
    assert axe_violations(page) == []

    # One click: the question is kept as answered by that story.
    answer.get_by_role("button", name=re.compile("^This answers my question")).click()
    page.wait_for_url(re.compile(r"/questions/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(ANSWERED)
    expect(page.get_by_role("link", name=ANSWER_TITLE)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Answered by")
    answered_url = page.url

    # A question nothing answers yet is posted: it gets its page and waits on the board.
    page.goto("/ask/")
    page.get_by_role("textbox", name="Your question").fill(UNANSWERED)
    page.get_by_role("button", name="See what the library knows").click()
    page.get_by_role("button", name="Post my question").click()
    page.wait_for_url(re.compile(r"/questions/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(UNANSWERED)
    posted_url = page.url
    page.goto("/questions/")  # the board shows each question's opening words, linked to its page
    expect(page.get_by_role("link", name="Open")).to_have_attribute("aria-current", "page")
    expect(page.locator(f'main a[href="{urlsplit(posted_url).path}"]')).to_contain_text(UNANSWERED[:30])
    page.get_by_role("link", name="Answered", exact=True).click()
    expect(page.locator(f'main a[href="{urlsplit(answered_url).path}"]')).to_contain_text(ANSWERED[:30])
    expect(page.locator("main")).not_to_contain_text(UNANSWERED[:30])
    snap(page, artifacts, "questions-board")
    assert axe_violations(page) == []

    # Questions are for colleagues: an anonymous visitor is sent to sign in, and reads neither.
    visitor = open_page(chromium, request, artifacts, base_url=live_storybank.base_url)
    for path in ("/questions/", answered_url, posted_url, "/ask/?q=zebrafish"):
        visitor.goto(path)
        expect(visitor).to_have_url(re.compile(r"/accounts/login/"))
        body = visitor.content()
        assert ANSWERED not in body and UNANSWERED not in body, path
    visitor.goto("/")
    expect(visitor.get_by_label("Ask the library a question")).to_have_count(0)
    expect(visitor.get_by_role("link", name="Ask", exact=True)).to_have_count(0)
