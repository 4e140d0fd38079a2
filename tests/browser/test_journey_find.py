"""Journey 4, find: an anonymous visitor searches and narrows with the keyboard alone, and never meets a
staff-only story — not in pages, facets, feeds, the API or autocomplete."""

import html
import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser_harness import snap

pytestmark = pytest.mark.browser

SEARCH_WORD = "team"


@pytest.fixture(scope="module")
def staff_only(live_storybank) -> dict:
    """The live staff-only stories, their tellers and themes, and how many public stories there are."""
    return live_storybank.query(
        "import json; from stories.models import StoryPage; "
        "staff = StoryPage.objects.live().filter(visibility='staff').select_related('teller'); "
        "print(json.dumps({"
        "'titles': [s.title for s in staff], "
        "'tellers': sorted({s.teller.slug for s in staff if s.teller}), "
        "'themes': sorted({t.slug for s in staff for t in s.themes.all()}), "
        "'public_count': StoryPage.objects.live().public().filter(visibility='public').count()}))"
    )


def assert_no_staff_story(text: str, staff_only: dict, where: str) -> None:
    """None of the staff-only titles, as text, HTML or JSON, in what an anonymous visitor received."""
    for title in staff_only["titles"]:
        forms = {title, html.escape(title), html.escape(title, quote=False), json.dumps(title)[1:-1]}
        leaked = [form for form in forms if form in text]
        assert not leaked, f"staff-only story {title!r} shown to an anonymous visitor on {where}"


def focused(page, locator) -> bool:
    return page.evaluate("(element) => document.activeElement === element", locator.element_handle())


def tab_to(page, locator, *, backwards: bool = False, limit: int = 250) -> None:
    """Press Tab (or Shift+Tab) until the keyboard focus is on `locator`, as a keyboard user would."""
    locator.wait_for(state="attached")
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if focused(page, locator):
            return
    raise AssertionError(f"could not reach {locator} with the keyboard in {limit} presses")


def query_params(page) -> dict:
    return parse_qs(urlparse(page.url).query)


def checkbox_for(page, facet: str, exclude: set[str] = frozenset()):
    """The first shown value of a facet that still narrows the results (count below the total)."""
    boxes = page.locator(f"input[type=checkbox][name={facet}]:not(:checked):visible")
    total = int(re.search(r"\d+", page.locator("#results-heading").inner_text()).group())
    for index in range(boxes.count()):
        box = boxes.nth(index)
        count = int(box.locator("xpath=ancestor::li[1]").locator(".count").inner_text())
        if box.get_attribute("value") not in exclude and 0 < count < total:
            return box
    return boxes.first


def test_visitor_finds_stories_with_the_keyboard_alone_and_never_sees_staff_only_ones(
    page, phone_page, artifacts, live_storybank, staff_only
):
    assert staff_only["titles"], "the demo content has staff-only stories to hide"
    seen: list[tuple[str, str]] = []

    def keep(where: str) -> None:
        seen.append((where, page.content()))

    # Home: Tab to the search box, type, Enter.
    page.goto("/")
    keep("home")
    tab_to(page, page.get_by_role("searchbox", name="Search stories"))
    page.keyboard.type(SEARCH_WORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/search/\?q={SEARCH_WORD}"))
    expect(page.locator("#results-heading")).to_contain_text("stories")
    keep("search results")
    snap(page, artifacts, "1-search-results")

    # Narrow by theme, person and outcome: Tab to a facet checkbox, Space (the form applies itself).
    chosen: dict[str, str] = {}
    for facet in ("theme", "person", "outcome"):
        box = checkbox_for(page, facet)
        value = box.get_attribute("value")
        tab_to(page, box)
        with page.expect_navigation():
            page.keyboard.press("Space")
        chosen[facet] = value
        assert query_params(page)[facet] == [value]
        expect(page.locator(f"input[name={facet}][value='{value}']")).to_be_checked()
        expect(page.get_by_role("list", name="Active filters").get_by_role("link")).to_have_count(
            len(chosen) + 1  # one chip per filter, and "Clear all filters"
        )
        keep(f"search narrowed by {facet}")
    assert page.locator("li.result").count() >= 1, "the three facets together still find a story"
    snap(page, artifacts, "2-search-three-facets")

    # Without the script's instant filters the "Apply filters" button submits: it is reachable too.
    apply = page.get_by_role("button", name="Apply filters")
    tab_to(page, apply)
    expect(apply).to_be_visible()  # a visually hidden button shows itself when focused
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert query_params(page)["theme"] == [chosen["theme"]]

    # Remove the theme chip with the keyboard.
    chip = page.get_by_role("link", name=re.compile(r"^Remove filter Theme: "))
    tab_to(page, chip)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "theme" not in query_params(page)
    assert query_params(page)["person"] == [chosen["person"]]
    keep("search with a chip removed")
    snap(page, artifacts, "3-search-chip-removed")

    # Clear the rest, then page through the results (Shift+Tab up from the page's end to "Next").
    tab_to(page, page.get_by_role("link", name="Clear all filters"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert not {"theme", "person", "outcome"} & set(query_params(page))
    pages = page.get_by_role("navigation", name="Result pages")
    expect(pages).to_be_visible()
    page.keyboard.press("End")
    page.evaluate("() => document.querySelector('.site-footer a:last-of-type').focus()")
    tab_to(page, pages.get_by_role("link", name="Next"), backwards=True)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert query_params(page)["page"] == ["2"]
    expect(pages.locator("[aria-current=page]")).to_have_text("2")
    keep("search results page 2")
    snap(page, artifacts, "4-search-page-2")

    # Open the chosen person's page from the People directory, still by keyboard.
    person_slug = chosen["person"]
    tab_to(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="People"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    keep("people directory")
    tab_to(page, page.locator(f"a[href='/people/{person_slug}/']").first)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert urlparse(page.url).path == f"/people/{person_slug}/"
    expect(page.get_by_role("heading", name="Ask them about…")).to_be_visible()
    keep("person page")
    snap(page, artifacts, "5-person-page")

    # Autocomplete in the search box: typing the start of a staff-only title suggests nothing of it.
    page.goto("/search/")
    box = page.get_by_role("combobox", name="Search words")
    for title in staff_only["titles"][:3]:
        prefix = " ".join(title.split()[:2])
        box.fill("")
        box.press_sequentially(prefix, delay=20)
        page.wait_for_timeout(600)  # debounce and fetch
        listbox = page.get_by_role("listbox", name="Suggestions", include_hidden=True)
        assert_no_staff_story(listbox.inner_html(), staff_only, f"autocomplete for {prefix!r}")

    # Everything else an anonymous visitor can reach directly.
    library = page.goto("/stories/")
    keep("library")
    snap(page, artifacts, "6-library")
    must_answer = [
        "/feeds/stories/",
        *[f"/api/v2/pages/?type=stories.StoryPage&fields=aha&limit=20&offset={n}" for n in range(0, 100, 20)],
        "/api/search/?per_page=50",
        *[f"/api/search/?q={'+'.join(title.split()[:4])}" for title in staff_only["titles"]],
        *[f"/api/search/suggest/?q={'+'.join(title.split()[:2])}" for title in staff_only["titles"]],
        "/sitemap.xml",
    ]
    # A teller or theme known only from staff-only stories may be "not found" for a visitor.
    may_be_missing = [
        *[f"/people/{slug}/" for slug in staff_only["tellers"]],
        *[f"/feeds/people/{slug}/" for slug in staff_only["tellers"]],
        *[f"/themes/{slug}/" for slug in staff_only["themes"]],
        *[f"/feeds/themes/{slug}/" for slug in staff_only["themes"]],
    ]
    for url in must_answer + may_be_missing:
        response = page.request.get(url)
        assert response.ok or (url in may_be_missing and response.status == 404), f"{url}: {response.status}"
        seen.append((url, response.text()))
    assert library.ok

    for where, text in seen:
        assert_no_staff_story(text, staff_only, where)

    # Facet counts leak nothing either: the years of all stories add up to the public stories.
    everything = page.request.get("/api/search/?per_page=1").json()
    assert everything["total"] == staff_only["public_count"]
    assert sum(value["count"] for value in everything["facets"]["year"]) == staff_only["public_count"]

    assert [message for message in page.console_messages if message.startswith("pageerror")] == []

    # The same search on a phone.
    phone_page.goto(f"/search/?q={SEARCH_WORD}&person={person_slug}")
    expect(phone_page.get_by_role("list", name="Active filters")).to_be_visible()
    snap(phone_page, artifacts, "7-search-phone")
    phone_page.goto(f"/people/{person_slug}/")
    snap(phone_page, artifacts, "8-person-phone")
