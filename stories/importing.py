"""Importing and exporting stories as JSON Lines or CSV, fast enough for 100,000 stories.

One record per line (JSONL) or row (CSV). A record is keyed by `external_id`: importing the same
file twice updates the stories it made the first time and never duplicates them. A bad record is
reported with its line number and reason while the good ones still import.

A record's keys are the exported fields of `stories.schema` (read when needed, never copied here),
each parsed, read from a story, exported and applied by the functions of its `Kind` (`CODECS`).

Pages are built in batches without Wagtail's per-page `add_child` and `save_revision`, through
`stories.bulk_pages` (tree paths allocated in memory, bulk inserts, one revision per created or
updated story). Per-story signals do not fire for bulk rows, so each batch announces every
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
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache, partial
from pathlib import Path
from typing import IO, Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from wagtail.search.backends import get_search_backends

from stories.bulk_pages import (
    REVISION_FIELDS,
    ChildPaths,
    add_children_count,
    add_revisions,
    insert_pages,
    sibling_slugs,
    update_pages,
)
from stories.models import Person, StoryIndexPage, StoryPage, Theme
from stories.schema import Kind, StoryField, exported_fields
from stories.signals import stories_written_in_bulk
from stories.slugs import SlugSet

LIST_SEPARATOR = ";"
DEFAULT_BATCH_SIZE = 500
PK_EXTERNAL_ID = re.compile(r"^storybank:(\d+)$")
REQUIRED_KEYS = ("external_id", "title")  # which story a record is, and what it is called

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
    """One parsed record: each exported field's value (by model attribute), as its kind reads it."""

    values: dict[str, Any]

    @property
    def external_id(self) -> str:
        return self.values["external_id"]


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
        missing = set(REQUIRED_KEYS) - {name.strip() for name in reader.fieldnames}
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


def _model_field(story_field: StoryField):
    return StoryPage._meta.get_field(story_field.name)


def _name_limit(story_field: StoryField) -> int:
    """How long a related item's name may be (people, themes, outcome types)."""
    return _model_field(story_field).related_model._meta.get_field("name").max_length


def _email_key(story_field: StoryField) -> str:
    """The PERSON kind's second column: the person's e-mail address."""
    return f"{story_field.key}_email"


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


def _bool(raw: dict, key: str, default: bool | None) -> bool | None:
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


# Parsing: raw record -> value, one function per kind ----------------------------------------


def _parse_line(raw: dict, story_field: StoryField) -> str:
    """One line; a record without its identity (external_id, title) or with it cut short is refused."""
    key, limit = story_field.key, _model_field(story_field).max_length
    text = _text(raw, key)
    if key not in REQUIRED_KEYS:
        return text[:limit]
    if not text:
        raise RecordError(f"{key} is missing")
    if len(text) > limit:
        raise RecordError(f"{key} is longer than {limit} characters")
    return text


def _parse_text(raw: dict, story_field: StoryField) -> str:
    return _text(raw, story_field.key)


def _parse_decimal(raw: dict, story_field: StoryField) -> Decimal | None:
    text = _text(raw, story_field.key)
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise RecordError(f"{story_field.key} {text!r} is not a number")


def _parse_date(raw: dict, story_field: StoryField) -> dt.date | None:
    text = _text(raw, story_field.key)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise RecordError(f"{story_field.key} {text!r} is not a date (YYYY-MM-DD)")


def _parse_choice(raw: dict, story_field: StoryField) -> str:
    model_field = _model_field(story_field)
    values = [value for value, _label in model_field.choices]
    value = _text(raw, story_field.key).lower() or model_field.default
    if value not in values:
        raise RecordError(f"{story_field.key} must be {' or '.join(values)}, not {value!r}")
    return value


def _parse_flag(raw: dict, story_field: StoryField) -> bool | None:
    """True or false; None when the record does not say (parse_record decides the default)."""
    return _bool(raw, story_field.key, None)


def _parse_person(raw: dict, story_field: StoryField) -> PersonRef | None:
    key, email_key = story_field.key, _email_key(story_field)
    teller = raw.get(key)
    email = _text(raw, email_key)
    if isinstance(teller, dict):
        name = str(teller.get("name") or "").strip()
        email = str(teller.get("email") or "").strip() or email
    elif teller in (None, ""):
        name = ""
    elif isinstance(teller, str):
        name = teller.strip()
    else:
        raise RecordError(f'{key} must be a name or {{"name": …, "email": …}}')
    if not name and email:
        raise RecordError(f"{email_key} is given without the {key}'s name")
    if email and "@" not in email:
        raise RecordError(f"{email_key} {email!r} is not an e-mail address")
    return PersonRef(name[: _name_limit(story_field)], email.lower()) if name else None


def _parse_people(raw: dict, story_field: StoryField) -> list[PersonRef]:
    limit = _name_limit(story_field)
    return [PersonRef(name[:limit]) for name in _names(raw, story_field.key)]


def _parse_terms(raw: dict, story_field: StoryField) -> list[str]:
    limit = _name_limit(story_field)
    return [name[:limit] for name in _names(raw, story_field.key)]


# Reading a story: model -> value (what parsing the story's own record would give) ----------


def _read_value(story: StoryPage, story_field: StoryField):
    return getattr(story, story_field.name)


def _read_person(story: StoryPage, story_field: StoryField) -> PersonRef | None:
    person = getattr(story, story_field.name)
    return PersonRef(person.name, person.email or "") if person else None


def _people_named(names: list[str]) -> list[PersonRef]:
    return [PersonRef(name) for name in names]


def _read_people(story: StoryPage, story_field: StoryField) -> list[PersonRef]:
    return _people_named([person.name for person in getattr(story, story_field.name).all()])


def _read_terms(story: StoryPage, story_field: StoryField) -> list[str]:
    return [term.name for term in getattr(story, story_field.name).all()]


# Exporting: value -> record entries ---------------------------------------------------------


def _export_text(story_field: StoryField, value) -> dict:
    return {story_field.key: value or ""}


def _export_decimal(story_field: StoryField, value: Decimal | None) -> dict:
    return {story_field.key: "" if value is None else f"{value.normalize():f}"}


def _export_date(story_field: StoryField, value: dt.date | None) -> dict:
    return {story_field.key: value.isoformat() if value else ""}


def _export_flag(story_field: StoryField, value: bool | None) -> dict:
    return {story_field.key: bool(value)}


def _export_person(story_field: StoryField, value: PersonRef | None) -> dict:
    return {
        story_field.key: value.name if value else "",
        _email_key(story_field): value.email if value else "",
    }


def _export_names(story_field: StoryField, value: list) -> dict:
    return {story_field.key: [item.name if isinstance(item, PersonRef) else item for item in value]}


# Applying: value -> the story's attributes (relations are written in bulk afterwards) -------


def _apply_value(story: StoryPage, story_field: StoryField, value, vocabulary: Vocabulary) -> None:
    setattr(story, story_field.name, value)


def _apply_person(
    story: StoryPage, story_field: StoryField, value: PersonRef | None, vocabulary: Vocabulary
) -> None:
    setattr(story, _model_field(story_field).attname, vocabulary.person(value) if value else None)


def _apply_relation(story: StoryPage, story_field: StoryField, value, vocabulary: Vocabulary) -> None:
    """Nothing on the story itself: `LibraryWriter._set_relations` writes every story's rows at once."""


@dataclass(frozen=True)
class KindCodec:
    parse: Callable[[dict, StoryField], Any]
    read: Callable[[StoryPage, StoryField], Any]
    export: Callable[[StoryField, Any], dict]
    apply: Callable[[StoryPage, StoryField, Any, Vocabulary], None]
    # Relations only: the value from the related items' names (`StoredRelations` reads them in bulk).
    from_names: Callable[[list[str]], Any] | None = None


CODECS: dict[Kind, KindCodec] = {
    Kind.LINE: KindCodec(_parse_line, _read_value, _export_text, _apply_value),
    Kind.TEXT: KindCodec(_parse_text, _read_value, _export_text, _apply_value),
    Kind.DECIMAL: KindCodec(_parse_decimal, _read_value, _export_decimal, _apply_value),
    Kind.DATE: KindCodec(_parse_date, _read_value, _export_date, _apply_value),
    Kind.CHOICE: KindCodec(_parse_choice, _read_value, _export_text, _apply_value),
    Kind.FLAG: KindCodec(_parse_flag, _read_value, _export_flag, _apply_value),
    Kind.PERSON: KindCodec(_parse_person, _read_person, _export_person, _apply_person),
    Kind.PEOPLE: KindCodec(_parse_people, _read_people, _export_names, _apply_relation, _people_named),
    Kind.TERMS: KindCodec(_parse_terms, _read_terms, _export_names, _apply_relation, list),
}
RELATION_KINDS = (Kind.PEOPLE, Kind.TERMS)


def record_columns() -> list[str]:
    """The CSV header: every exported field's key (and the PERSON kind's e-mail column after it)."""
    columns = []
    for story_field in exported_fields():
        columns.append(story_field.key)
        if story_field.kind is Kind.PERSON:
            columns.append(_email_key(story_field))
    return columns


def parse_record(raw: dict) -> StoryRecord:
    """A validated StoryRecord from one raw record; RecordError says what is wrong."""
    fields = exported_fields()
    values = {story_field.name: CODECS[story_field.kind].parse(raw, story_field) for story_field in fields}
    # A source that marks a story published has the teller's agreement, unless it says otherwise.
    if values.get("consent") is None:
        values["consent"] = bool(values.get("live"))
    for story_field in fields:
        if story_field.kind is Kind.FLAG and values[story_field.name] is None:
            values[story_field.name] = False
    if values["live"]:
        problems = _unsaved_story().publish_problems(themes=values["themes"], consent=values["consent"])
        if problems:
            raise RecordError(" ".join(problems))
    return StoryRecord(values)


@cache
def _unsaved_story() -> StoryPage:
    """A blank story to ask the publishing rule about a record: building a page per record cost a
    tenth of an import."""
    return StoryPage()


# Writing -------------------------------------------------------------------------------------


class Vocabulary:
    """Vocabulary items (themes, outcome types) and people by name (and e-mail), created on first mention."""

    def __init__(self):
        self.terms: dict[type, dict[str, int]] = {}
        self.term_slugs: dict[type, SlugSet] = {}
        self.people_by_email: dict[str, int] = {}
        self.people_by_name: dict[str, int] = {}
        for pk, name, email in Person.objects.order_by("pk").values_list("pk", "name", "email"):
            if email:
                self.people_by_email.setdefault(email.lower(), pk)
            self.people_by_name.setdefault(name.casefold(), pk)
        self.person_slugs = SlugSet(Person.objects.values_list("slug", flat=True))

    @staticmethod
    def _slug_length(model) -> int:
        return model._meta.get_field("slug").max_length - 10

    def _known_terms(self, model) -> dict[str, int]:
        if model not in self.terms:
            found = {}
            for pk, name, slug in model.objects.values_list("pk", "name", "slug"):
                found[slug] = pk
                found[name.casefold()] = pk
            self.terms[model] = found
            self.term_slugs[model] = SlugSet(model.objects.values_list("slug", flat=True))
        return self.terms[model]

    def term(self, model, name: str) -> int:
        known = self._known_terms(model)
        key = name.casefold()
        pk = known.get(key) or known.get(slugify(name))
        if pk is None:
            term = model(
                name=name, slug=self.term_slugs[model].allocate(name, max_length=self._slug_length(model))
            )
            if model is Theme:
                term.is_approved = True  # the source's own vocabulary, not a reader's proposal
            term.save()
            pk = known[key] = known[term.slug] = term.pk
        return pk

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
            slug = self.person_slugs.allocate(ref.name, max_length=self._slug_length(Person))
            person = Person(name=ref.name, email=ref.email or None, slug=slug)
            person.save()
            pk = person.pk
            if ref.email:
                self.people_by_email[ref.email] = pk
            self.people_by_name.setdefault(ref.name.casefold(), pk)
        return pk


# Page state the importer keeps besides the exported fields.
PAGE_STATE = ("draft_title", "has_unpublished_changes", "first_published_at", "last_published_at")


class LibraryWriter:
    """Creates and updates story pages under the library in batches, with bulk SQL."""

    def __init__(self, library: StoryIndexPage):
        self.library = library
        self.written_ids: list[int] = []
        self.reset()

    def reset(self) -> None:
        """Re-read the tree position, slugs and vocabulary (after a batch was rolled back)."""
        self.paths = ChildPaths(self.library)
        self.content_type = ContentType.objects.get_for_model(StoryPage)
        self.slugs = SlugSet(sibling_slugs(self.library))
        self.vocabulary = Vocabulary()

    @staticmethod
    def _published_at(record: StoryRecord) -> dt.datetime:
        """Imported stories keep their history: they count as published on the day they happened."""
        occurred_on = record.values.get("occurred_on")
        if occurred_on:
            return dt.datetime.combine(occurred_on, dt.time(12), tzinfo=dt.UTC)
        return timezone.now()

    def _apply(self, story: StoryPage, record: StoryRecord) -> None:
        was_live = story.live
        for story_field in exported_fields():
            CODECS[story_field.kind].apply(
                story, story_field, record.values[story_field.name], self.vocabulary
            )
        story.draft_title = story.title
        if story.live:
            if not was_live or story.first_published_at is None:
                story.first_published_at = story.first_published_at or self._published_at(record)
                story.last_published_at = timezone.now()
            story.has_unpublished_changes = False
        else:
            story.has_unpublished_changes = True

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
        """Create or update the stories for these records (distinct external_ids), each with a new revision.

        Returns (created, updated, unchanged): a record that matches its story exactly is skipped.
        """
        existing = self.existing(record.external_id for record in records)
        stories = StoryPage.objects.in_bulk(
            [existing[r.external_id] for r in records if r.external_id in existing]
        )
        stored = StoredRelations.read(stories)
        written: list[tuple[StoryRecord, StoryPage]] = []
        new_stories: list[StoryPage] = []
        updated_stories: list[StoryPage] = []
        unchanged = 0
        for record in records:
            if record.external_id in existing:
                story = stories[existing[record.external_id]]
                if record_matches(story, record, stored.values[story.pk]):
                    unchanged += 1
                    continue
                self._apply(story, record)
                updated_stories.append(story)
            else:
                story = StoryPage(
                    slug=self.slugs.allocate(record.values["title"], max_length=230, fallback="story"),
                    content_type=self.content_type,
                    locale_id=self.library.locale_id,
                    depth=self.paths.depth,
                    numchild=0,
                    path=self.paths.allocate(),
                    source="import",
                )
                story.url_path = f"{self.library.url_path}{story.slug}/"
                self._apply(story, record)
                new_stories.append(story)
            written.append((record, story))
        insert_pages(new_stories)
        add_children_count(self.library, len(new_stories))
        many_to_many = self._set_relations(written, stored)
        add_revisions(new_stories, new=True, many_to_many=many_to_many)
        add_revisions(updated_stories, new=False, many_to_many=many_to_many)
        update_pages(updated_stories, [*self._updated_fields(), *REVISION_FIELDS])
        written_ids = [story.pk for _, story in written]
        stories_written_in_bulk.send(sender=StoryPage, story_ids=written_ids)
        self.written_ids.extend(written_ids)
        return len(new_stories), len(updated_stories), unchanged

    @staticmethod
    def _updated_fields() -> list[str]:
        fields = [
            story_field.name for story_field in exported_fields() if story_field.kind not in RELATION_KINDS
        ]
        return [*fields, *PAGE_STATE]

    def _set_relations(
        self, written: list[tuple[StoryRecord, StoryPage]], stored: StoredRelations
    ) -> dict[str, dict[int, list[int]]]:
        """Write the stories' people, themes and outcome types; returns what each relation now holds.

        A story whose rows already hold exactly these items, in this order, keeps its rows.
        """
        many_to_many = {}
        for story_field in exported_fields():
            if story_field.kind not in RELATION_KINDS:
                continue
            relation = _model_field(story_field)
            through = relation.remote_field.through
            story_column, item_column = _through_columns(relation)
            if story_field.kind is Kind.PEOPLE:
                resolve = self.vocabulary.person
            else:
                resolve = partial(self.vocabulary.term, relation.related_model)
            related = many_to_many[story_field.name] = {
                story.pk: list(dict.fromkeys(resolve(item) for item in record.values[story_field.name]))
                for record, story in written
            }
            held = stored.keys.get(story_field.name, {})
            changed = {story_pk: pks for story_pk, pks in related.items() if held.get(story_pk) != pks}
            replaced = [story_pk for story_pk in changed if story_pk in held]
            if replaced:
                through.objects.filter(**{f"{story_column}__in": replaced}).delete()
            _insert_links(through, story_column, item_column, changed)
        return many_to_many


def _insert_links(through, story_column: str, item_column: str, related: dict[int, list[int]]) -> None:
    """Insert link rows (story key, item key), in order, with one `executemany`.

    Link rows have no save logic or signals, and `bulk_create` builds a model instance and its
    SQL per row: profiled on a 2,000-story import, that took an eighth of the create pass.
    """
    quote = connection.ops.quote_name
    table = quote(through._meta.db_table)
    columns = ", ".join(quote(through._meta.get_field(name).column) for name in (story_column, item_column))
    sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s)"
    rows = [(story_pk, pk) for story_pk, pks in related.items() for pk in pks]
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def _through_columns(relation) -> tuple[str, str]:
    """A many-to-many relation's two columns in its link table: the story's key, the item's key."""
    through = relation.remote_field.through
    return (
        through._meta.get_field(relation.m2m_field_name()).attname,
        through._meta.get_field(relation.m2m_reverse_field_name()).attname,
    )


@dataclass
class StoredRelations:
    """What matched stories hold now in their relations: teller, people, themes, outcome types.

    Read as plain rows (the teller's name and e-mail, the link tables' story, item and name):
    loading the related items as model instances for every matched story, with `select_related`
    and a prefetch, cost more than comparing the stories and writing them.
    """

    values: dict[int, dict[str, Any]]  # story key -> field name -> value, as the kind's `read` gives it
    keys: dict[str, dict[int, list[int]]]  # relation -> story key -> item keys, in the rows' order

    @classmethod
    def read(cls, stories: dict[int, StoryPage]) -> StoredRelations:
        stored = cls(values={pk: {} for pk in stories}, keys={})
        if not stories:
            return stored
        for story_field in exported_fields():
            if story_field.kind is Kind.PERSON:
                stored._read_person(stories, story_field)
            elif story_field.kind in RELATION_KINDS:
                stored._read_relation(stories, story_field)
        return stored

    def _read_person(self, stories: dict[int, StoryPage], story_field: StoryField) -> None:
        foreign_key = _model_field(story_field)
        person_pks = {getattr(story, foreign_key.attname) for story in stories.values()} - {None}
        people = {
            pk: PersonRef(name, email or "")
            for pk, name, email in foreign_key.related_model.objects.filter(pk__in=person_pks).values_list(
                "pk", "name", "email"
            )
        }
        for pk, story in stories.items():
            self.values[pk][story_field.name] = people.get(getattr(story, foreign_key.attname))

    def _read_relation(self, stories: dict[int, StoryPage], story_field: StoryField) -> None:
        relation = _model_field(story_field)
        story_column, item_column = _through_columns(relation)
        rows = (
            relation.remote_field.through.objects.filter(**{f"{story_column}__in": list(stories)})
            .order_by("pk")
            .values_list(story_column, item_column, f"{relation.m2m_reverse_field_name()}__name")
        )
        keys = self.keys[story_field.name] = {pk: [] for pk in stories}
        names: dict[int, list[str]] = {pk: [] for pk in stories}
        for story_pk, item_pk, name in rows:
            keys[story_pk].append(item_pk)
            names[story_pk].append(name)
        for pk, story_names in names.items():
            self.values[pk][story_field.name] = CODECS[story_field.kind].from_names(story_names)


def _comparable(value):
    return sorted(value) if isinstance(value, list) else value


def record_matches(story: StoryPage, record: StoryRecord, relations: dict[str, Any]) -> bool:
    """Whether importing this record would leave the story exactly as it is.

    `relations` is what the story's relations hold now (its `StoredRelations.values`). A record
    without an e-mail address for a person matches that person whatever their address.
    """
    current = story_record(story, relations)
    wanted = record_entries(record)
    optional = {
        _email_key(story_field) for story_field in exported_fields() if story_field.kind is Kind.PERSON
    }
    return all(
        _comparable(current[key]) == _comparable(value)
        for key, value in wanted.items()
        if value or key not in optional
    )


def record_entries(record: StoryRecord) -> dict:
    """A parsed record in `story_record`'s shape, for comparison."""
    entries = {}
    for story_field in exported_fields():
        entries.update(CODECS[story_field.kind].export(story_field, record.values[story_field.name]))
    return entries


def import_records(
    numbered_records: Iterable[tuple[int, dict | RecordError]],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Import (line number, raw record) pairs in batches; a failing line never stops the others."""
    report = ImportReport()
    writer = LibraryWriter(StoryIndexPage.get_library())
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


def story_record(story: StoryPage, relations: dict[str, Any] | None = None) -> dict:
    """The export record of one story: its relations from `relations` (field name -> value, as
    read in bulk), else from the story (prefetched by the caller)."""
    record = {}
    for story_field in exported_fields():
        codec = CODECS[story_field.kind]
        if relations is not None and story_field.name in relations:
            value = relations[story_field.name]
        else:
            value = codec.read(story, story_field)
        record.update(codec.export(story_field, value))
    record["external_id"] = record["external_id"] or f"storybank:{story.pk}"
    return record


def export_stories(stream: IO[str], *, fmt: str = "jsonl", queryset=None) -> int:
    """Write every story (drafts too) in the import format; returns how many were written."""
    if fmt not in {"jsonl", "csv"}:
        raise ValueError(f"unknown format {fmt!r}; use jsonl or csv")
    fields = exported_fields()
    relations = [story_field.name for story_field in fields if story_field.kind in RELATION_KINDS]
    people = [story_field for story_field in fields if story_field.kind is Kind.PERSON]
    stories = (queryset if queryset is not None else StoryPage.objects.all()).order_by("path")
    stories = stories.select_related(*(story_field.name for story_field in people)).prefetch_related(
        *relations
    )
    writer = (
        csv.DictWriter(stream, fieldnames=record_columns(), lineterminator="\n") if fmt == "csv" else None
    )
    if writer:
        writer.writeheader()
    count = 0
    for story in stories.iterator(chunk_size=1000):
        record = story_record(story)
        if writer:
            writer.writerow({key: _csv_cell(value) for key, value in record.items()})
        else:
            for story_field in people:
                email = record.pop(_email_key(story_field))
                if email and record[story_field.key]:
                    record[story_field.key] = {"name": record[story_field.key], "email": email}
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def _csv_cell(value) -> str:
    if isinstance(value, list):
        return LIST_SEPARATOR.join(name.replace(LIST_SEPARATOR, ",") for name in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
