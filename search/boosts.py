"""Stories other apps know to answer a question come first on /search/ (questions: the stories that
answered questions much like it).

search cannot see those apps, so they register a source at start-up (`provide_boost`). A source
returns story ids, best first, and only of stories this reader may see; it must cost no query for
an anonymous reader. Only the first page of a relevance-sorted search is reordered: the stories
move up among the results, nothing is added or taken away.
"""

from __future__ import annotations

from collections.abc import Callable

from search.service import SearchPage

BoostSource = Callable[[str, object], list[int]]
_sources: dict[str, BoostSource] = {}


def provide_boost(name: str, source: BoostSource | None) -> None:
    """Register `source(text, user) -> [story id]` under `name`; None removes it."""
    if source is None:
        _sources.pop(name, None)
    else:
        _sources[name] = source


def move_first(page: SearchPage, story_ids: list[int]) -> SearchPage:
    """`page` with these stories' results first, in this order; the others keep theirs."""
    order = {story_id: position for position, story_id in enumerate(dict.fromkeys(story_ids))}
    if order and not page.unavailable:
        page.results = sorted(page.results, key=lambda result: order.get(result.story.pk, len(order)))
    return page


def boosted(page: SearchPage, user) -> SearchPage:
    query = page.query
    if page.unavailable or not query.text or query.sort != "relevance" or query.page != 1 or not _sources:
        return page
    return move_first(
        page, [story_id for source in _sources.values() for story_id in source(query.text, user)]
    )
