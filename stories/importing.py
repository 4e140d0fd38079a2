"""Importing and exporting stories as JSON Lines or CSV, fast enough for 100,000 stories.

One record per line (JSONL) or row (CSV). A record is keyed by `external_id`: importing the same
file twice updates the stories it made the first time and never duplicates them. A bad record is
reported with its line number and reason while the good ones still import.

Pages are built in batches without Wagtail's per-page `add_child` (which re-reads the tree for
every story): tree paths are allocated in memory under the library page and the rows are written
with bulk inserts. Per-story signals do not fire for bulk rows, so each batch announces every
story it wrote with `stories.signals.stories_written_in_bulk`, inside the batch's transaction:
whatever keeps a copy of stories (the search queue) learns of all of them, durably.
"""

from __future__ import annotations

import contextvars
import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from wagtail.models import Page

from stories.models import OutcomeType, Person, StoryIndexPage, StoryPage, Theme, Visibility
from stories.signals import stories_written_in_bulk

FIELDS = [
    "external_id",
    "title",
    "teller",
    "teller_email",
    "people",
    "themes",
    "outcomes",
    "context",
    "aha",
    "outcome",
    "occurred_on",
    "visibility",
    "publish",
    "consent",
    "impact_value",
    "impact_unit",
    "featured",
]
LIST_SEPARATOR = ";"
DEFAULT_BATCH_SIZE = 500
PK_EXTERNAL_ID = re.compile(r"^storybank:(\d+)$")

_bulk_import = contextvars.ContextVar("stories_bulk_import", default=False)


@contextmanager
def bulk_import_mode() -> Iterator[None]:
    """Marks a bulk write (an import, the demo load) for code that wants to know (`bulk_import_active()`).

    Per-story signals still fire and are handled as usual inside it; what the bulk rows change is
    announced with `stories_written_in_bulk`.
    """
    token = _bulk_import.set(True)
    try:
        yield
    finally:
        _bulk_import.reset(token)


def bulk_import_active() -> bool:
    """True inside `bulk_import_mode()`."""
    return _bulk_import.get()


class RecordError(ValueError):
    """A record that cannot be imported; the message says why, for the person fixing the file."""


@dataclass
class PersonRef:
    name: str
    email: str = ""


@dataclass
class StoryRecord:
    external_id: str
    title: str
    teller: PersonRef | None = None
    people: list[PersonRef] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    context: str = ""
    aha: str = ""
    outcome: str = ""
    occurred_on: dt.date | None = None
    visibility: str = Visibility.PUBLIC
    publish: bool = False
    consent: bool = False
    impact_value: Decimal | None = None
    impact_unit: str = ""
    featured: bool = False


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    written_story_ids: list[int] = field(default_factory=list)

    def add(self, created: int, updated: int, unchanged: int) -> None:
        self.created += created
        self.updated += updated
        self.unchanged += unchanged

    @property
    def failed(self) -> int:
        return len(self.errors)

    def summary(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, {self.failed} failed"


# Reading -------------------------------------------------------------------------------------


def detect_format(name: str, first_text: str) -> str:
    """ "jsonl" or "csv": from the file name's extension, else from the first character."""
    suffix = Path(name).suffix.lower()
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    return "jsonl" if first_text.lstrip().startswith("{") else "csv"


def read_raw_records(stream: IO[str], fmt: str) -> Iterator[tuple[int, dict | RecordError]]:
    """(line number, raw dict or the reason it could not be read) for each record in the stream."""
    if fmt == "jsonl":
        for line_number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as error:
                yield line_number, RecordError(f"not valid JSON ({error.msg})")
                continue
            if not isinstance(raw, dict):
                yield line_number, RecordError("each line must be a JSON object")
                continue
            yield line_number, raw
    elif fmt == "csv":
        reader = csv.DictReader(stream)
        if reader.fieldnames is None:
            return
        missing = {"external_id", "title"} - {name.strip() for name in reader.fieldnames}
        if missing:
            yield 1, RecordError(f"the header has no {', '.join(sorted(missing))} column")
            return
        start = reader.line_num + 1
        for row in reader:
            if None in row:
                yield start, RecordError("this row has more cells than the header")
            else:
                yield start, {key.strip(): value for key, value in row.items()}
            start = reader.line_num + 1
    else:
        raise ValueError(f"unknown format {fmt!r}; use jsonl or csv")


def _text(raw: dict, key: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise RecordError(f"{key} must be text")
    return str(value).strip()


def _names(raw: dict, key: str) -> list[str]:
    value = raw.get(key)
    if value in (None, ""):
        return []
    if isinstance(value, str):
        items = value.split(LIST_SEPARATOR)
    elif isinstance(value, list):
        items = [item.get("name", "") if isinstance(item, dict) else item for item in value]
    else:
        raise RecordError(f"{key} must be a list (or '{LIST_SEPARATOR}'-separated text)")
    names = []
    for item in items:
        if not isinstance(item, str):
            raise RecordError(f"{key} must contain names")
        if item.strip() and item.strip() not in names:
            names.append(item.strip())
    return names


def _bool(raw: dict, key: str, default: bool) -> bool:
    value = raw.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes", "y"}:
        return True
    if text in {"false", "0", "no", "n"}:
        return False
    raise RecordError(f"{key} must be true or false, not {value!r}")


def _person(raw: dict) -> PersonRef | None:
    teller = raw.get("teller")
    email = _text(raw, "teller_email")
    if isinstance(teller, dict):
        name = str(teller.get("name") or "").strip()
        email = str(teller.get("email") or "").strip() or email
    elif teller in (None, ""):
        name = ""
    elif isinstance(teller, str):
        name = teller.strip()
    else:
        raise RecordError('teller must be a name or {"name": …, "email": …}')
    if not name and email:
        raise RecordError("teller_email is given without the teller's name")
    if email and "@" not in email:
        raise RecordError(f"teller_email {email!r} is not an e-mail address")
    return PersonRef(name[:150], email.lower()) if name else None


def parse_record(raw: dict) -> StoryRecord:
    """A validated StoryRecord from one raw record; RecordError says what is wrong."""
    external_id = _text(raw, "external_id")
    if not external_id:
        raise RecordError("external_id is missing")
    if len(external_id) > 100:
        raise RecordError("external_id is longer than 100 characters")
    title = _text(raw, "title")
    if not title:
        raise RecordError("title is missing")
    if len(title) > 255:
        raise RecordError("title is longer than 255 characters")
    occurred_text = _text(raw, "occurred_on")
    occurred_on = None
    if occurred_text:
        try:
            occurred_on = dt.date.fromisoformat(occurred_text)
        except ValueError:
            raise RecordError(f"occurred_on {occurred_text!r} is not a date (YYYY-MM-DD)")
    visibility = _text(raw, "visibility").lower() or Visibility.PUBLIC
    if visibility not in Visibility.values:
        raise RecordError(f"visibility must be public or staff, not {visibility!r}")
    impact_text = _text(raw, "impact_value")
    impact_value = None
    if impact_text:
        try:
            impact_value = Decimal(impact_text)
        except InvalidOperation:
            raise RecordError(f"impact_value {impact_text!r} is not a number")
    publish = _bool(raw, "publish", False)
    record = StoryRecord(
        external_id=external_id,
        title=title,
        teller=_person(raw),
        people=[PersonRef(name[:150]) for name in _names(raw, "people")],
        themes=[name[:100] for name in _names(raw, "themes")],
        outcomes=[name[:100] for name in _names(raw, "outcomes")],
        context=_text(raw, "context"),
        aha=_text(raw, "aha"),
        outcome=_text(raw, "outcome"),
        occurred_on=occurred_on,
        visibility=visibility,
        publish=publish,
        # A source that marks a story published has the teller's agreement, unless it says otherwise.
        consent=_bool(raw, "consent", publish),
        impact_value=impact_value,
        impact_unit=_text(raw, "impact_unit")[:60],
        featured=_bool(raw, "featured", False),
    )
    if record.publish:
        problems = StoryPage().publish_problems(themes=record.themes, consent=record.consent)
        if problems:
            raise RecordError(" ".join(problems))
    return record


# Writing -------------------------------------------------------------------------------------


class Vocabulary:
    """Themes, outcome types and people by name (and e-mail), created on first mention."""

    def __init__(self):
        self.themes = self._by_key(Theme)
        self.outcomes = self._by_key(OutcomeType)
        self.theme_slugs = set(Theme.objects.values_list("slug", flat=True))
        self.outcome_slugs = set(OutcomeType.objects.values_list("slug", flat=True))
        self.people_by_email: dict[str, int] = {}
        self.people_by_name: dict[str, int] = {}
        for pk, name, email in Person.objects.order_by("pk").values_list("pk", "name", "email"):
            if email:
                self.people_by_email.setdefault(email.lower(), pk)
            self.people_by_name.setdefault(name.casefold(), pk)
        self.person_slugs = set(Person.objects.values_list("slug", flat=True))

    @staticmethod
    def _by_key(model) -> dict[str, int]:
        found = {}
        for pk, name, slug in model.objects.values_list("pk", "name", "slug"):
            found[slug] = pk
            found[name.casefold()] = pk
        return found

    @staticmethod
    def _free_slug(name: str, taken: set[str], limit: int) -> str:
        base = slugify(name)[: limit - 10] or "item"
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        return slug

    def _term(self, model, known: dict[str, int], slugs: set[str], name: str) -> int:
        key = name.casefold()
        pk = known.get(key) or known.get(slugify(name))
        if pk is None:
            term = model(name=name, slug=self._free_slug(name, slugs, 100))
            if model is Theme:
                term.is_approved = True
            term.save()
            pk = known[key] = known[term.slug] = term.pk
        return pk

    def theme(self, name: str) -> int:
        return self._term(Theme, self.themes, self.theme_slugs, name)

    def outcome(self, name: str) -> int:
        return self._term(OutcomeType, self.outcomes, self.outcome_slugs, name)

    def person(self, ref: PersonRef) -> int:
        if ref.email and ref.email in self.people_by_email:
            return self.people_by_email[ref.email]
        pk = self.people_by_name.get(ref.name.casefold())
        if pk is not None and ref.email:
            # A known name gains its e-mail address, unless that person already has another one.
            if Person.objects.filter(pk=pk, email__isnull=True).update(email=ref.email):
                self.people_by_email[ref.email] = pk
            else:
                pk = None
        if pk is None:
            person = Person(
                name=ref.name, email=ref.email or None, slug=self._free_slug(ref.name, self.person_slugs, 150)
            )
            person.save()
            pk = person.pk
            if ref.email:
                self.people_by_email[ref.email] = pk
            self.people_by_name.setdefault(ref.name.casefold(), pk)
        return pk


class LibraryWriter:
    """Creates and updates story pages under the library in batches, with bulk SQL."""

    def __init__(self, library: StoryIndexPage):
        self.library = library
        self.written_ids: list[int] = []
        self.reset()

    def reset(self) -> None:
        """Re-read the tree position, slugs and vocabulary (after a batch was rolled back)."""
        library = self.library
        self.depth = library.depth + 1
        self.content_type = ContentType.objects.get_for_model(StoryPage)
        children = Page.objects.filter(path__startswith=library.path, depth=self.depth)
        last_path = children.order_by("-path").values_list("path", flat=True).first()
        self.next_step = (StoryPage._str2int(last_path[-StoryPage.steplen :]) + 1) if last_path else 1
        self.slugs = set(children.values_list("slug", flat=True))
        self.slug_suffixes: dict[str, int] = {}
        self.vocabulary = Vocabulary()

    def _slug(self, title: str) -> str:
        """A slug no sibling uses; many stories with one title cost no more than one each."""
        base = slugify(title)[:230] or "story"
        slug, n = base, self.slug_suffixes.get(base, 2)
        while slug in self.slugs:
            slug, n = f"{base}-{n}", n + 1
        self.slug_suffixes[base] = n
        self.slugs.add(slug)
        return slug

    @staticmethod
    def _published_at(record: StoryRecord) -> dt.datetime:
        """Imported stories keep their history: they count as published on the day they happened."""
        if record.occurred_on:
            return dt.datetime.combine(record.occurred_on, dt.time(12), tzinfo=dt.UTC)
        return timezone.now()

    def _apply(self, story: StoryPage, record: StoryRecord, teller_id: int | None) -> None:
        story.title = story.draft_title = record.title
        story.teller_id = teller_id
        story.context, story.aha, story.outcome = record.context, record.aha, record.outcome
        story.occurred_on = record.occurred_on
        story.visibility = record.visibility
        story.consent = record.consent
        story.impact_value, story.impact_unit = record.impact_value, record.impact_unit
        story.featured = record.featured
        story.external_id = record.external_id
        if record.publish:
            if not story.live or story.first_published_at is None:
                story.first_published_at = story.first_published_at or self._published_at(record)
                story.last_published_at = timezone.now()
            story.live, story.has_unpublished_changes = True, False
        else:
            story.live, story.has_unpublished_changes = False, True

    def existing(self, external_ids: Iterable[str]) -> dict[str, int]:
        """external_id -> page id for the stories these records already made."""
        external_ids = list(external_ids)
        found = dict(StoryPage.objects.filter(external_id__in=external_ids).values_list("external_id", "pk"))
        by_pk = {
            int(match.group(1)): external_id
            for external_id in external_ids
            if external_id not in found and (match := PK_EXTERNAL_ID.match(external_id))
        }
        for pk in StoryPage.objects.filter(pk__in=by_pk, external_id="").values_list("pk", flat=True):
            found[by_pk[pk]] = pk
        return found

    @transaction.atomic
    def write(self, records: list[StoryRecord]) -> tuple[int, int, int]:
        """Create or update the stories for these records (distinct external_ids).

        Returns (created, updated, unchanged): a record that matches its story exactly is skipped.
        """
        existing = self.existing(record.external_id for record in records)
        stories = (
            StoryPage.objects.select_related("teller")
            .prefetch_related("people", "themes", "outcome_types")
            .in_bulk([existing[r.external_id] for r in records if r.external_id in existing])
        )
        relations: list[tuple[StoryRecord, int]] = []
        new_stories: list[tuple[StoryRecord, StoryPage]] = []
        updated_stories = []
        unchanged = 0
        for record in records:
            if record.external_id in existing:
                story = stories[existing[record.external_id]]
                if record_matches(story, record):
                    unchanged += 1
                    continue
                teller_id = self.vocabulary.person(record.teller) if record.teller else None
                self._apply(story, record, teller_id)
                updated_stories.append(story)
                relations.append((record, story.pk))
            else:
                teller_id = self.vocabulary.person(record.teller) if record.teller else None
                story = StoryPage(
                    slug=self._slug(record.title),
                    content_type=self.content_type,
                    locale_id=self.library.locale_id,
                    depth=self.depth,
                    numchild=0,
                    path=StoryPage._get_path(self.library.path, self.depth, self.next_step),
                    source="import",
                )
                story.url_path = f"{self.library.url_path}{story.slug}/"
                self.next_step += 1
                self._apply(story, record, teller_id)
                new_stories.append((record, story))
        if new_stories:
            self._insert([story for _, story in new_stories])
            relations += [(record, story.pk) for record, story in new_stories]
            Page.objects.filter(pk=self.library.pk).update(numchild=F("numchild") + len(new_stories))
        if updated_stories:
            self._update(updated_stories)
        self._set_relations(relations, replace=[story.pk for story in updated_stories])
        written = [story_id for _, story_id in relations]
        stories_written_in_bulk.send(sender=StoryPage, story_ids=written)
        self.written_ids.extend(written)
        return len(new_stories), len(updated_stories), unchanged

    @staticmethod
    def _update(stories: list[StoryPage]) -> None:
        """One UPDATE statement per table, executed for every story (executemany is fast on both databases)."""
        for model in (Page, StoryPage):
            fields = [
                field
                for field in model._meta.local_concrete_fields
                if field.name in UPDATED_FIELDS or field.attname in UPDATED_FIELDS
            ]
            pk_column = model._meta.pk.column
            quote = connection.ops.quote_name
            sql = "UPDATE {} SET {} WHERE {} = %s".format(
                quote(model._meta.db_table),
                ", ".join(f"{quote(field.column)} = %s" for field in fields),
                quote(pk_column),
            )
            rows = [
                [field.get_db_prep_save(getattr(story, field.attname), connection) for field in fields]
                + [story.pk]
                for story in stories
            ]
            with connection.cursor() as cursor:
                cursor.executemany(sql, rows)

    def _insert(self, stories: list[StoryPage]) -> None:
        """Insert the page rows, then the story rows that extend them (bulk_create refuses MTI)."""
        page_fields = [f for f in Page._meta.concrete_fields if not f.primary_key]
        pages = [Page(**{f.attname: getattr(story, f.attname) for f in page_fields}) for story in stories]
        Page.objects.bulk_create(pages, batch_size=500)
        for story, page in zip(stories, pages, strict=True):
            story.page_ptr_id = story.pk = page.pk
            story.id = page.pk
        story_fields = list(StoryPage._meta.local_concrete_fields)
        size = max(1, connection.ops.bulk_batch_size(story_fields, stories))
        for start in range(0, len(stories), size):
            StoryPage._base_manager._insert(stories[start : start + size], fields=story_fields)

    def _set_relations(self, relations: list[tuple[StoryRecord, int]], replace: list[int]) -> None:
        through = {
            "people": (StoryPage.people.through, "person_id", self.vocabulary.person),
            "themes": (StoryPage.themes.through, "theme_id", self.vocabulary.theme),
            "outcomes": (StoryPage.outcome_types.through, "outcometype_id", self.vocabulary.outcome),
        }
        for attribute, (model, column, resolve) in through.items():
            if replace:
                model.objects.filter(storypage_id__in=replace).delete()
            rows = []
            for record, story_id in relations:
                for pk in dict.fromkeys(resolve(item) for item in getattr(record, attribute)):
                    rows.append(model(storypage_id=story_id, **{column: pk}))
            model.objects.bulk_create(rows, batch_size=1000)


def record_matches(story: StoryPage, record: StoryRecord) -> bool:
    """Whether importing this record would leave the story exactly as it is."""
    current = story_record(story)
    wanted = record_dict(record)
    if record.teller and record.teller.email:
        wanted["teller_email"] = record.teller.email
    for key in ("people", "themes", "outcomes"):
        current[key], wanted[key] = sorted(current[key]), sorted(wanted[key])
    return all(current[key] == wanted[key] for key in wanted)


def record_dict(record: StoryRecord) -> dict:
    """A parsed record in `story_record`'s shape, for comparison."""
    return {
        "external_id": record.external_id,
        "title": record.title,
        "teller": record.teller.name if record.teller else "",
        "people": [person.name for person in record.people],
        "themes": record.themes,
        "outcomes": record.outcomes,
        "context": record.context,
        "aha": record.aha,
        "outcome": record.outcome,
        "occurred_on": record.occurred_on.isoformat() if record.occurred_on else "",
        "visibility": record.visibility,
        "publish": record.publish,
        "consent": record.consent,
        "impact_value": "" if record.impact_value is None else f"{record.impact_value.normalize():f}",
        "impact_unit": record.impact_unit,
        "featured": record.featured,
    }


UPDATED_FIELDS = [
    "title",
    "draft_title",
    "teller",
    "context",
    "aha",
    "outcome",
    "occurred_on",
    "visibility",
    "consent",
    "impact_value",
    "impact_unit",
    "featured",
    "external_id",
    "live",
    "has_unpublished_changes",
    "first_published_at",
    "last_published_at",
]


def import_records(
    numbered_records: Iterable[tuple[int, dict | RecordError]],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Import (line number, raw record) pairs in batches; a failing line never stops the others."""
    report = ImportReport()
    writer = LibraryWriter(StoryIndexPage.objects.get())
    batch: dict[str, tuple[int, StoryRecord]] = {}

    def flush():
        if not batch:
            return
        items = list(batch.values())
        batch.clear()
        try:
            report.add(*writer.write([record for _, record in items]))
        except Exception:
            # One record broke the batch: write them one at a time to find it.
            writer.reset()
            for line_number, record in items:
                try:
                    report.add(*writer.write([record]))
                except Exception as error:  # the database refused this record: report it, go on
                    writer.reset()
                    report.errors.append((line_number, f"could not be saved ({error})"))
        if progress:
            progress(report)

    with bulk_import_mode():
        for line_number, raw in numbered_records:
            try:
                if isinstance(raw, RecordError):
                    raise raw
                record = parse_record(raw)
            except RecordError as error:
                report.errors.append((line_number, str(error)))
                continue
            if record.external_id in batch:
                flush()  # the same story twice in a file: the later line wins, as on a re-import
            batch[record.external_id] = (line_number, record)
            if len(batch) >= batch_size:
                flush()
        flush()
    report.errors.sort()
    report.written_story_ids = writer.written_ids
    return report


def refresh_admin_search(story_ids: Iterable[int], *, chunk_size: int = 1000) -> int:
    """Add stories written in bulk to Wagtail's own search index (the admin's page search).

    Bulk rows fire no save signals, so Wagtail never heard of them; this is the chunked
    equivalent of saving each one. Returns how many stories were indexed.
    """
    from wagtail.search.backends import get_search_backends

    story_ids = list(dict.fromkeys(story_ids))
    for backend in get_search_backends(with_auto_update=True):
        for start in range(0, len(story_ids), chunk_size):
            stories = list(StoryPage.objects.filter(pk__in=story_ids[start : start + chunk_size]))
            backend.add_bulk(StoryPage, stories)
    return len(story_ids)


def import_stories(
    source: str | Path | IO[str],
    *,
    fmt: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Import a JSONL or CSV file (a path, "-" for standard input, or an open text stream)."""
    if isinstance(source, str | Path):
        if str(source) == "-":
            import sys

            return import_stories(sys.stdin, fmt=fmt, batch_size=batch_size, progress=progress)
        with open(source, encoding="utf-8-sig", newline="") as stream:
            return import_stories(
                stream, fmt=fmt or _sniff(stream, str(source)), batch_size=batch_size, progress=progress
            )
    stream = source
    if fmt is None:
        if not stream.seekable():
            stream = io.StringIO(stream.read())
        fmt = _sniff(stream, getattr(source, "name", ""))
    return import_records(read_raw_records(stream, fmt), batch_size=batch_size, progress=progress)


def _sniff(stream: IO[str], name: str) -> str:
    position = stream.tell()
    first = stream.read(2048)
    stream.seek(position)
    return detect_format(name or "", first)


# Exporting -----------------------------------------------------------------------------------


def story_record(story: StoryPage) -> dict:
    """The export record of one story (people, themes and outcomes prefetched by the caller)."""
    teller = story.teller
    return {
        "external_id": story.external_id or f"storybank:{story.pk}",
        "title": story.title,
        "teller": teller.name if teller else "",
        "teller_email": (teller.email or "") if teller else "",
        "people": [person.name for person in story.people.all()],
        "themes": [theme.name for theme in story.themes.all()],
        "outcomes": [outcome.name for outcome in story.outcome_types.all()],
        "context": story.context,
        "aha": story.aha,
        "outcome": story.outcome,
        "occurred_on": story.occurred_on.isoformat() if story.occurred_on else "",
        "visibility": story.visibility,
        "publish": story.live,
        "consent": story.consent,
        "impact_value": "" if story.impact_value is None else f"{story.impact_value.normalize():f}",
        "impact_unit": story.impact_unit,
        "featured": story.featured,
    }


def export_stories(stream: IO[str], *, fmt: str = "jsonl", queryset=None) -> int:
    """Write every story (drafts too) in the import format; returns how many were written."""
    stories = (queryset if queryset is not None else StoryPage.objects.all()).order_by("path")
    stories = stories.select_related("teller").prefetch_related("people", "themes", "outcome_types")
    writer = csv.DictWriter(stream, fieldnames=FIELDS, lineterminator="\n") if fmt == "csv" else None
    if fmt not in {"jsonl", "csv"}:
        raise ValueError(f"unknown format {fmt!r}; use jsonl or csv")
    if writer:
        writer.writeheader()
    count = 0
    for story in stories.iterator(chunk_size=1000):
        record = story_record(story)
        if writer:
            for key in ("people", "themes", "outcomes"):
                record[key] = LIST_SEPARATOR.join(name.replace(LIST_SEPARATOR, ",") for name in record[key])
            for key in ("publish", "consent", "featured"):
                record[key] = "true" if record[key] else "false"
            writer.writerow(record)
        else:
            if not record["teller_email"]:
                del record["teller_email"]
            elif record["teller"]:
                record["teller"] = {"name": record["teller"], "email": record.pop("teller_email")}
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count
