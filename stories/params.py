"""Reading query parameters: one strict reader for every public page and API.

A parameter that cannot be read as what the view expects (a number written with other than the
digits 0-9, a number past its range, a value given twice where one is meant, an overlong string,
control characters) raises `BadParameter`, which stories.middleware answers with a 400 that names
the parameter and says why. Values that are well formed but name nothing (an unknown theme slug, a
page past the last one) stay the views' business: they are reported in the page, not refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from django.core.exceptions import BadRequest

MAX_TEXT_LENGTH = 200
MAX_PAGE_NUMBER = 10_000
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
ASCII_DIGITS = re.compile(r"[0-9]+")
FLAG_VALUES = {
    **dict.fromkeys(("1", "true", "yes", "on"), True),
    **dict.fromkeys(("0", "false", "no", "off"), False),
}


class BadParameter(BadRequest):
    """A query parameter this site will not read; `reason` is a sentence for the person who sent it."""

    def __init__(self, name: str, problem: str):
        self.parameter = name
        self.reason = f"The “{name}” parameter {problem}."
        super().__init__(self.reason)


def refuse_control_characters(params: Mapping) -> None:
    """Refuse control characters (NUL above all) in any parameter name or value, read or not.

    No form or link of the site sends them, and some databases and search engines fail on them
    rather than finding nothing, so they are turned away before any view, ours or Wagtail's, runs.
    """
    for name in params:
        if CONTROL_CHARACTERS.search(name):
            raise BadParameter(ascii(name)[1:-1], "has control characters in its name")
        for value in _all_values(params, name):
            if CONTROL_CHARACTERS.search(value):
                raise BadParameter(name, "has control characters in it")


def _all_values(params: Mapping, name: str) -> list[str]:
    raw = params.getlist(name) if hasattr(params, "getlist") else params.get(name)
    if raw is None:
        return []
    if isinstance(raw, str | int):
        return [str(raw)]
    return [str(value) for value in raw]


class QueryParams:
    """Typed accessors over request.GET (or any mapping of names to a value or a list of values).

    Every accessor treats an absent or blank parameter as its default and raises `BadParameter`
    for anything malformed; single-valued accessors refuse a parameter given more than once.
    """

    def __init__(self, params: Mapping):
        self.params = params

    def values(self, name: str, *, max_length: int = MAX_TEXT_LENGTH) -> list[str]:
        """Every non-blank value of `name`, stripped, each checked for length and control characters."""
        values = []
        for value in _all_values(self.params, name):
            value = value.strip()
            if CONTROL_CHARACTERS.search(value):
                raise BadParameter(name, "has control characters in it")
            if len(value) > max_length:
                raise BadParameter(name, f"is longer than {max_length} characters")
            if value:
                values.append(value)
        return values

    def single(self, name: str, *, max_length: int = MAX_TEXT_LENGTH) -> str | None:
        """The one value of `name`, or None when it is absent or blank."""
        values = self.values(name, max_length=max_length)
        if len(values) > 1:
            raise BadParameter(name, f"was given {len(values)} times; give it once")
        return values[0] if values else None

    def text(self, name: str, *, max_length: int = MAX_TEXT_LENGTH, default: str = "") -> str:
        value = self.single(name, max_length=max_length)
        return default if value is None else value

    def integer(
        self, name: str, *, default: int | None = None, minimum: int = 0, maximum: int = MAX_PAGE_NUMBER
    ) -> int | None:
        value = self.single(name)
        return default if value is None else _whole_number(name, value, minimum, maximum)

    def choice(self, name: str, choices: Iterable[str], *, default: str) -> str:
        value = self.single(name)
        if value is None:
            return default
        choices = tuple(choices)
        if value not in choices:
            raise BadParameter(name, "must be one of " + ", ".join(choices))
        return value

    def flag(self, name: str, *, default: bool = False) -> bool:
        value = self.single(name)
        if value is None:
            return default
        if value.lower() not in FLAG_VALUES:
            raise BadParameter(name, "must be 1 or 0")
        return FLAG_VALUES[value.lower()]

    def texts(self, name: str, *, max_count: int, max_length: int = MAX_TEXT_LENGTH) -> tuple[str, ...]:
        """The distinct values of a repeatable parameter, in the order given."""
        values = tuple(dict.fromkeys(self.values(name, max_length=max_length)))
        if len(values) > max_count:
            raise BadParameter(name, f"was given {len(values)} times; at most {max_count} values are read")
        return values

    def integers(self, name: str, *, max_count: int, minimum: int = 0, maximum: int) -> tuple[int, ...]:
        texts = self.texts(name, max_count=max_count)
        return tuple(dict.fromkeys(_whole_number(name, value, minimum, maximum) for value in texts))


def _whole_number(name: str, value: str, minimum: int, maximum: int) -> int:
    """`value` as an int: the ASCII digits 0-9 only (str.isdigit and int() also take "²" or "١٢")."""
    if not ASCII_DIGITS.fullmatch(value):
        raise BadParameter(name, f"must be a whole number written with the digits 0-9, not “{value[:40]}”")
    if len(value) > len(str(maximum)) or not minimum <= int(value) <= maximum:
        raise BadParameter(name, f"must be between {minimum} and {maximum}")
    return int(value)
