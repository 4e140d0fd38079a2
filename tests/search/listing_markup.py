"""Reading what a story list shows a reader: titles in order, the total and the facet boxes.

The library and /search/ render stories differently (cards, results) but their facets with the
same partial (search/includes/facet_value.html), so both are read the same way here.
"""

from __future__ import annotations

import html as html_module
import re
from urllib.parse import urljoin

CARD_TITLE = re.compile(r'class="story-card__title"[^>]*><a href="[^"]*">([^<]+)</a>')
RESULT_TITLE = re.compile(r'<h3 class="result__title"><a href="[^"]*">([^<]+)</a>')
TOTAL = re.compile(r'id="results-heading"[^>]*>\s*(?:(\d+) stor|No stories)')
NEXT_PAGE = re.compile(r'<a href="([^"]+)" rel="next"')
FACET_BOX = re.compile(
    r'name="(\w+)" value="([^"]*)"( checked)? data-facet-input>\s*<span>([^<]*)</span>\s*</label>\s*'
    r'<span class="count"[^>]*>(\d+)</span>'
)


def card_titles(page: str) -> list[str]:
    """Story card titles in page order (library, theme, outcome, person and home pages)."""
    return [html_module.unescape(title) for title in CARD_TITLE.findall(page)]


def result_titles(page: str) -> list[str]:
    """Search result titles in page order (/search/ with no words highlights nothing in them)."""
    return [html_module.unescape(title) for title in RESULT_TITLE.findall(page)]


def total_shown(page: str) -> int:
    found = TOTAL.search(page)
    assert found, "the page has no results heading"
    return int(found.group(1) or 0)


def facet_boxes(page: str) -> dict[str, dict[str, tuple[str, int, bool]]]:
    """{facet: {value: (label, count, checked)}} for every facet box on the page."""
    boxes: dict[str, dict[str, tuple[str, int, bool]]] = {}
    for facet, value, checked, label, count in FACET_BOX.findall(page):
        boxes.setdefault(facet, {})[html_module.unescape(value)] = (
            html_module.unescape(label),
            int(count),
            bool(checked),
        )
    return boxes


def every_page(client, path: str, params: list[tuple[str, str]], titles) -> tuple[list[str], str]:
    """Titles across all pages of a list, following its "next" links; and the first page's HTML."""
    first = client.get(path, params)
    assert first.status_code == 200
    first_html = page_html = first.content.decode()
    shown = titles(page_html)
    url = first.request["PATH_INFO"] + "?" + first.request["QUERY_STRING"]
    for _ in range(50):
        next_link = NEXT_PAGE.search(page_html)
        if not next_link:
            return shown, first_html
        url = urljoin(url, html_module.unescape(next_link.group(1)))
        page_html = client.get(url).content.decode()
        shown += titles(page_html)
    raise AssertionError(f"{path} has more than 50 pages")
