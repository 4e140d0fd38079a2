"""Search results shaped for people (the /search/ page) and for programs (/api/search/)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.safestring import mark_safe

from search.query import FACETS, Suggestion, TranscriptHit
from search.service import MEANING_CATCHING_UP, MEANING_STARTING, SearchPage, StoryResult
from stories.schema import snippet_labels
from stories.transcripts import clock_time

FACET_TITLES = {
    "theme": "Theme",
    "person": "Person",
    "outcome": "Outcome",
    "year": "Year",
    "language": "Language",
}


def play_url(story_url: str, start: float) -> str:
    """The story page with its player cued to `start` (the page honours ?t=seconds).

    Tenths are kept: cutting 37.58 to 37 would start in the line before the hit.
    """
    seconds = f"{start:.1f}".removesuffix(".0")
    return f"{story_url}?t={seconds}"


@dataclass
class ShownTranscriptHit:
    start: float
    clock: str
    url: str
    highlighted: str


@dataclass
class ShownResult:
    story: object
    title_html: str
    snippets: list[tuple[str, str]]
    transcript_hits: list[ShownTranscriptHit]


def _transcript_hits(story, hits: list[TranscriptHit]) -> list[ShownTranscriptHit]:
    return [
        ShownTranscriptHit(
            hit.start, clock_time(hit.start), play_url(story.url, hit.start), mark_safe(hit.highlighted)
        )
        for hit in hits
    ]


def shown_result(result: StoryResult) -> ShownResult:
    story, hit = result.story, result.hit
    snippets = [
        (label, mark_safe(hit.highlights[field]))
        for field, label in snippet_labels().items()
        if field in hit.highlights and not (field == "transcript_text" and hit.transcript_hits)
    ]
    if not snippets and story.aha:
        snippets = [("Aha", story.aha)]
    title_html = mark_safe(hit.highlights["title"]) if "title" in hit.highlights else story.title
    return ShownResult(story, title_html, snippets[:2], _transcript_hits(story, hit.transcript_hits))


FACET_VALUES_SHOWN = 8
# Shown only when the results differ in it: a library told in one language needs no language filter.
SHOWN_WHEN_VARIED = {"language"}


def facet_group(facet: str, values: list) -> dict:
    """A facet's values: the top few and every chosen one up front, the rest behind "More"."""
    if facet in SHOWN_WHEN_VARIED and len(values) < 2 and not any(value.selected for value in values):
        values = []
    shown = [value for index, value in enumerate(values) if index < FACET_VALUES_SHOWN or value.selected]
    more = [value for value in values if value not in shown]
    return {"name": facet, "title": FACET_TITLES[facet], "values": shown, "more": more}


def page_links(page: SearchPage) -> list[dict]:
    """Numbered links around the current page, with gaps shown as None."""
    current, last = page.query.page, page.page_count
    numbers = sorted({1, last, *range(max(1, current - 2), min(last, current + 2) + 1)})
    links, previous = [], 0
    for number in numbers:
        if number - previous > 1:
            links.append(None)
        links.append({"number": number, "url": page.query.url(page=number), "current": number == current})
        previous = number
    return links


# What the search page says while a question was matched by its words alone (search.service.meaning_status).
MEANING_NOTES = {
    MEANING_STARTING: "Matching by meaning is still starting up: these results match your words only. "
    "Try again in a few seconds.",
    MEANING_CATCHING_UP: "Some stories are still being read for their meaning: until then they are found by "
    "their words.",
}


def page_context(page: SearchPage) -> dict:
    query = page.query
    return {
        "search": page,
        "query": query,
        "results": [shown_result(result) for result in page.results],
        "facet_groups": [facet_group(facet, page.facets.get(facet, [])) for facet in FACETS],
        "chips": [
            {
                "facet": FACET_TITLES.get(facet, facet.title()),
                "label": value.label,
                "url": query.without(facet, value.value).url(),
            }
            for facet, value in page.active_filters
        ],
        "clear_url": query.url(themes=(), people=(), outcomes=(), years=(), languages=(), sources=(), page=1),
        "has_filters": bool(query.filters()),
        "page_links": page_links(page) if page.page_count > 1 else [],
        "previous_url": query.url(page=query.page - 1) if page.has_previous else "",
        "next_url": query.url(page=query.page + 1) if page.has_next else "",
        "first_shown": query.offset + 1,
        "last_shown": query.offset + len(page.results),
        "meaning_note": MEANING_NOTES.get(page.meaning, ""),
    }


def _named(item) -> dict | None:
    return {"slug": item.slug, "name": item.name} if item else None


def api_payload(page: SearchPage) -> dict:
    query = page.query
    results = []
    for result in page.results:
        story, hit = result.story, result.hit
        results.append(
            {
                "id": story.pk,
                "title": story.title,
                "url": story.url,
                "teller": _named(story.teller),
                "themes": [_named(theme) for theme in story.themes],
                "people": [_named(person) for person in story.people],
                "outcomes": [_named(outcome) for outcome in story.outcome_types],
                "visibility": story.visibility,
                "first_published_at": story.first_published_at.isoformat()
                if story.first_published_at
                else None,
                "helpful_count": story.helpful_count,
                "highlights": hit.highlights,
                "transcript_hits": [
                    {
                        "start": transcript_hit.start,
                        "end": transcript_hit.end,
                        "text": transcript_hit.text,
                        "highlighted": transcript_hit.highlighted,
                        "url": play_url(story.url, transcript_hit.start),
                    }
                    for transcript_hit in hit.transcript_hits
                ],
            }
        )
    return {
        "query": {
            "q": query.text,
            **{name: list(map(str, values)) for name, values in query.filters().items()},
            "sort": query.sort,
        },
        "total": page.total,
        "page": query.page,
        "per_page": query.per_page,
        "page_count": page.page_count,
        "available": not page.unavailable,
        "meaning": page.meaning or None,
        "results": results,
        "facets": {
            facet: [
                {"value": value.value, "label": value.label, "count": value.count, "selected": value.selected}
                for value in page.facets.get(facet, [])
            ]
            for facet in FACETS
        },
    }


def suggestion_payload(suggestion: Suggestion) -> dict:
    return {
        "label": suggestion.label,
        "kind": suggestion.kind,
        "url": suggestion.url,
        "value": suggestion.value,
    }
