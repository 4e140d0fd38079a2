"""The language a story was told in: the one Whisper heard in its clip, English for typed stories.

One rule for the index (`search.documents`), the database fallback (`stories.listing`) and the
facet's names, so the language filter finds the same stories whichever answers.
"""

from __future__ import annotations

from django.conf.locale import LANG_INFO
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf

# Typed stories, and clips heard by an English-only model, are English.
DEFAULT_LANGUAGE = "en"


def story_language(clip_language: str | None) -> str:
    return clip_language or DEFAULT_LANGUAGE


def language_name(code: str) -> str:
    """ "de" → "German"; a code Django does not know is shown as it is."""
    return LANG_INFO.get(code, {}).get("name", code)


def with_story_language(stories: QuerySet) -> QuerySet:
    """Annotate `story_language`, by the same rule as `story_language`, for filters and counts."""
    return stories.annotate(
        story_language=Coalesce(NullIf(F("clip__language"), Value("")), Value(DEFAULT_LANGUAGE))
    )
