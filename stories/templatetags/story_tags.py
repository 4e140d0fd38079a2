"""Small presentation helpers for the public story templates."""

from __future__ import annotations

from django import template

from stories.transcripts import clock_time

register = template.Library()


@register.filter
def clock(seconds) -> str:
    """Seconds as a reader's clock: 83 → "1:23"."""
    try:
        return clock_time(float(seconds))
    except (TypeError, ValueError):
        return ""


@register.filter
def initials(name: str) -> str:
    """Up to two initials for an avatar placeholder: "Ada Lovelace" → "AL"."""
    words = [word for word in str(name or "").split() if word[:1].isalpha()]
    return "".join(word[0].upper() for word in (words[:1] + words[1:][-1:]))


@register.filter
def seconds_attr(seconds) -> str:
    """Seconds for a data- attribute, with a dot as the decimal separator whatever the locale."""
    try:
        return f"{float(seconds):.3f}".rstrip("0").rstrip(".")
    except (TypeError, ValueError):
        return ""


@register.simple_tag
def plural(count: int, singular: str, plural_form: str = "") -> str:
    """ "1 story", "3 stories"."""
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"
