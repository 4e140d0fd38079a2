"""Slugs that no sibling uses: "name", then "name-2", "name-3", …

One rule for every slug Storybank makes (themes, outcome types, people, stories from the form,
from a clip and from an import). It knows no models, so models and bulk code can both use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.utils.text import slugify


def slug_base(text: str, *, max_length: int, fallback: str, allow_unicode: bool = False) -> str:
    """The slug of `text` cut to `max_length`; `fallback` when nothing is left (emoji-only titles)."""
    return slugify(text, allow_unicode=allow_unicode)[:max_length].strip("-") or fallback


def free_slug(
    text: str,
    is_taken: Callable[[str], bool],
    *,
    max_length: int = 80,
    fallback: str = "item",
    allow_unicode: bool = False,
) -> str:
    """The first of "base", "base-2", "base-3", … for which `is_taken` says no."""
    base = slug_base(text, max_length=max_length, fallback=fallback, allow_unicode=allow_unicode)
    slug, n = base, 2
    while is_taken(slug):
        slug, n = f"{base}-{n}", n + 1
    return slug


class SlugSet:
    """Slugs taken among siblings, held in memory for bulk writes.

    Many new items with one name cost one step each: the next suffix to try is remembered per base.
    """

    def __init__(self, taken: Iterable[str] = ()):
        self.taken = set(taken)
        self.next_suffix: dict[str, int] = {}

    def allocate(self, text: str, *, max_length: int, fallback: str = "item") -> str:
        base = slug_base(text, max_length=max_length, fallback=fallback)
        slug, n = base, self.next_suffix.get(base, 2)
        while slug in self.taken:
            slug, n = f"{base}-{n}", n + 1
        self.next_suffix[base] = n
        self.taken.add(slug)
        return slug
