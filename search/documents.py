"""The search document: one published story flattened into the shape both backends index.

Both backends index exactly this dict, so a story is found the same way whichever engine runs.
Only stories that are live and not behind a view restriction are indexable; staff-only stories
are indexed with their visibility so the backends can filter them inside the query.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from html import unescape

from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils.html import strip_tags
from wagtail.models import Page

from stories.languages import story_language
from stories.models import OutcomeType, Person, StoryPage, Theme, TranscriptSegment
from stories.schema import Kind, StoryField, story_fields

TEXT_KINDS = (Kind.LINE, Kind.TEXT)
# Kinds the engines filter or sort by: copied into the document whether searched or not.
FILTERED_KINDS = (Kind.DATE, Kind.CHOICE, Kind.COUNT)


def indexable_stories():
    """Every story that belongs in the index: published and not behind a page view restriction."""
    return StoryPage.objects.live().public()


def body_text(body) -> str:
    """The readable words of a StreamField body (paragraphs, quotes, captions), markup removed.

    Takes the stored JSON (text or parsed): reading it raw skips building StreamField blocks.
    """
    if isinstance(body, str):
        body = json.loads(body) if body else []
    parts: list[str] = []
    for block in body.raw_data if hasattr(body, "raw_data") else body or []:
        block_type, value = block.get("type"), block.get("value")
        if block_type == "paragraph":
            parts.append(strip_tags(str(value or "")))
        elif block_type == "quote" and isinstance(value, dict):
            parts.extend(str(value.get(key) or "") for key in ("quote", "attribution"))
        elif block_type == "image" and isinstance(value, dict):
            parts.append(str(value.get("caption") or ""))
    return " ".join(unescape(part).strip() for part in parts if part and part.strip())


def _iso(value) -> str | None:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return None


class PageUrls:
    """Story URLs without a query or Wagtail's per-page site lookup: a story's URL is its parent's plus its slug.

    A page's URL depends only on its `url_path` (a story's holds its parent's) and the sites' root
    paths, which Wagtail caches; so each parent's URL is worked out once, from an unsaved Page.
    """

    def __init__(self):
        self.parent_urls: dict[str, str | None] = {}

    def url(self, url_path: str) -> str:
        parent_path, _, slug = url_path.rstrip("/").rpartition("/")
        parent_path += "/"
        if parent_path not in self.parent_urls:
            self.parent_urls[parent_path] = Page(url_path=parent_path).get_url()
        parent_url = self.parent_urls[parent_path]
        return f"{parent_url}{slug}/" if parent_url else url_path


# Columns a document needs besides the schema's copied fields (relations, tree, clip).
PAGE_COLUMNS = (
    "pk",
    "url_path",
    "teller_id",
    "body_json",
    "first_published_at",
    "clip_id",
    "clip__language",
)


def copied_fields() -> list[StoryField]:
    """Schema fields the document holds as stored: searched text, and what the engines filter and sort by.

    Relations, the body and the transcript need more than their column, so they are built apart.
    """
    return [
        story_field
        for story_field in story_fields()
        if story_field.kind in FILTERED_KINDS
        or (story_field.kind in TEXT_KINDS and story_field.search_weight is not None)
    ]


def copied_value(story_field: StoryField, value):
    """A copied field's value as the document holds it (dates as ISO text)."""
    return _iso(value) if story_field.kind == Kind.DATE else value


def _for_stories(column: str, story_ids: list[int]) -> dict:
    """A filter on `column` for these stories: a range when they are dense (cheaper than a long IN)."""
    if story_ids and max(story_ids) - min(story_ids) < 2 * len(story_ids):
        return {f"{column}__gte": min(story_ids), f"{column}__lte": max(story_ids)}
    return {f"{column}__in": story_ids}


def _links(relation, story_ids: list[int], target_column: str) -> dict[int, list[int]]:
    through = relation.through
    linked: dict[int, list[int]] = {}
    rows = (
        through.objects.filter(**_for_stories("storypage_id", story_ids))
        .order_by("pk")
        .values_list("storypage_id", target_column)
    )
    for story_id, target_id in rows:
        linked.setdefault(story_id, []).append(target_id)
    return linked


class DocumentBuilder:
    """Builds documents for many stories with a few queries per chunk (rebuilds run at thousands/s).

    With a `failures` dict, a story whose document cannot be built (a malformed stored body, say)
    is left out and recorded there, so one bad story never stops a rebuild; without, it raises.
    """

    def __init__(self, failures: dict[int, Exception] | None = None):
        self.urls = PageUrls()
        self.names: dict[type, dict[int, dict]] = {}
        self.failures = failures
        self.last_row_pk: int | None = None

    def _load(self, model, ids: Iterable[int]) -> None:
        known = self.names.setdefault(model, {})
        missing = list({pk for pk in ids if pk not in known})
        rows = model.objects.all()
        if model is Theme:
            # A proposed theme stays out of search (and its facets) until an editor approves it.
            rows = rows.filter(is_approved=True)
        for start in range(0, len(missing), 900):
            chunk = missing[start : start + 900]
            for pk, name, slug in rows.filter(pk__in=chunk).values_list("pk", "name", "slug"):
                known[pk] = {"name": name, "slug": slug}

    def _named(self, model, ids: Iterable[int]) -> list[dict]:
        known = self.names.get(model, {})
        return [known[pk] for pk in ids if pk in known]

    def documents(self, queryset) -> list[dict]:
        copied = copied_fields()
        columns = dict.fromkeys([*PAGE_COLUMNS, *(story_field.name for story_field in copied)])
        rows = list(queryset.annotate(body_json=Cast("body", TextField())).values(*columns))
        story_ids = [row["pk"] for row in rows]
        self.last_row_pk = story_ids[-1] if story_ids else None
        themes = _links(StoryPage.themes, story_ids, "theme_id")
        outcomes = _links(StoryPage.outcome_types, story_ids, "outcometype_id")
        people = _links(StoryPage.people, story_ids, "person_id")
        segments: dict[int, list[dict]] = {}
        for story_id, start, end, text in (
            TranscriptSegment.objects.filter(**_for_stories("story_id", story_ids))
            .order_by("story_id", "sort_order", "start")
            .values_list("story_id", "start", "end", "text")
        ):
            segments.setdefault(story_id, []).append(
                {"start": round(float(start), 2), "end": round(float(end), 2), "text": text}
            )
        everyone = [row["teller_id"] for row in rows if row["teller_id"]]
        everyone += [pk for ids in people.values() for pk in ids]
        self._load(Person, everyone)
        self._load(Theme, [pk for ids in themes.values() for pk in ids])
        self._load(OutcomeType, [pk for ids in outcomes.values() for pk in ids])
        documents = []
        for row in rows:
            try:
                documents.append(self._document(row, copied, themes, outcomes, people, segments))
            except Exception as error:
                if self.failures is None:
                    raise
                self.failures[row["pk"]] = error
        return documents

    def _document(
        self, row: dict, copied: list[StoryField], themes: dict, outcomes: dict, people: dict, segments: dict
    ) -> dict:
        story_id = row["pk"]
        teller = self._named(Person, [row["teller_id"]]) if row["teller_id"] else []
        story_segments = segments.get(story_id, [])
        occurred_on, first_published = row["occurred_on"], row["first_published_at"]
        year_source = occurred_on or first_published
        document = {
            "id": story_id,
            "url": self.urls.url(row["url_path"]),
            **{
                story_field.document_field: copied_value(story_field, row[story_field.name])
                for story_field in copied
            },
            "teller": teller[0] if teller else None,
            "people": self._named(Person, people.get(story_id, [])),
            "themes": self._named(Theme, themes.get(story_id, [])),
            "outcome_types": self._named(OutcomeType, outcomes.get(story_id, [])),
            "transcript": story_segments,
            "transcript_text": " ".join(segment["text"].strip() for segment in story_segments),
            "body": body_text(row["body_json"]),
            "first_published_at": _iso(first_published),
            "year": year_source.year if year_source else None,
            "language": story_language(row["clip__language"]),
            "has_clip": row["clip_id"] is not None,
        }
        document["fingerprint"] = document_fingerprint(document)
        return document


def story_document(story: StoryPage) -> dict:
    """The search document for one story, as saved in the database."""
    return DocumentBuilder().documents(StoryPage.objects.filter(pk=story.pk))[0]


def document_fingerprint(document: dict) -> int:
    """A stable 62-bit hash of a document's content; `verify` compares it to spot stale entries."""
    content = sorted((key, value) for key, value in document.items() if key != "fingerprint")
    digest = hashlib.blake2b(repr(content).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 2


def person_slugs(document: dict) -> list[str]:
    """Everyone in a story, teller first: the "person" facet matches tellers and helpers alike."""
    slugs = [document["teller"]["slug"]] if document.get("teller") else []
    slugs += [person["slug"] for person in document["people"] if person["slug"] not in slugs]
    return slugs


def person_names(document: dict) -> list[str]:
    names = [document["teller"]["name"]] if document.get("teller") else []
    return names + [person["name"] for person in document["people"]]


def iter_documents(
    story_ids: Iterable[int] | None = None,
    *,
    chunk_size: int = 1000,
    failures: dict[int, Exception] | None = None,
) -> Iterator[dict]:
    """Documents for the given indexable stories (all of them when None), loaded in chunks.

    With `failures`, stories whose document cannot be built are skipped and recorded there.
    """
    queryset = indexable_stories().order_by("pk")
    if story_ids is not None:
        queryset = queryset.filter(pk__in=list(story_ids))
    builder = DocumentBuilder(failures)
    last_pk = 0
    while True:
        chunk = builder.documents(queryset.filter(pk__gt=last_pk)[:chunk_size])
        if builder.last_row_pk is None:
            return
        yield from chunk
        last_pk = builder.last_row_pk
