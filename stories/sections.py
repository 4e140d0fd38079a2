"""Sections another app adds to a page that stories or capture render, without being imported by them.

A higher app (questions, say) registers a builder for a named place when it starts; the page's
template renders whatever the builders return with `{% page_sections "<place>" name=value %}`
(`stories.templatetags.page_sections`). A builder is called as `build(request, **objects)` and
returns a `Section`, or None when it has nothing for this reader. A builder must not query the
database when the request alone says it has nothing to show (an anonymous reader, say): story
pages keep a fixed query count.

The places: "story_page" (objects: `story`, beside the story's aside), "my_stories"
(no objects, above the signed-in teller's own stories on /share/mine/), "person_page"
(objects: `person`, after the stories they told and helped in on /people/<slug>/) and
"search_page" (objects: `query`, the `search.query.SearchQuery`, above the results on /search/).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    """What a builder adds: a template and its context (the page's own context is not passed)."""

    template: str
    context: dict = field(default_factory=dict)


SectionBuilder = Callable[..., Section | None]
_builders: dict[str, dict[str, SectionBuilder]] = {}


def provide_section(place: str, name: str, build: SectionBuilder | None) -> None:
    """Register `build(request, **objects)` as the section `name` of `place`; None removes it."""
    builders = _builders.setdefault(place, {})
    if build is None:
        builders.pop(name, None)
    else:
        builders[name] = build


def sections_for(place: str, request, **objects) -> list[Section]:
    """The sections the registered builders give this request, in the order they were registered."""
    built = (build(request, **objects) for build in _builders.get(place, {}).values())
    return [section for section in built if section is not None]
