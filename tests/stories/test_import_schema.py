"""Import and export read the story's fields from stories.schema: a new field needs no importer change."""

import io
import json

import pytest

from stories import schema
from stories.importing import export_stories, import_stories
from stories.models import StoryPage
from stories.schema import Kind, StoryField

pytestmark = pytest.mark.django_db

RECORD = {
    "external_id": "crm-1",
    "title": "One post answered a week-old question",
    "themes": ["Email to network"],
    "publish": True,
    "search_description": "How a stuck ticket got its answer.",
}


@pytest.fixture
def made_up_field(monkeypatch):
    field = StoryField("search_description", Kind.TEXT, "Search description")
    monkeypatch.setattr(schema, "STORY_FIELDS", (*schema.STORY_FIELDS, field))
    return field


def jsonl(*records):
    return io.StringIO("".join(json.dumps(record) + "\n" for record in records))


def test_a_made_up_field_is_imported_exported_and_updated(made_up_field):
    report = import_stories(jsonl(RECORD), fmt="jsonl")

    assert (report.created, report.failed) == (1, 0)
    assert (
        StoryPage.objects.get(external_id="crm-1").search_description == "How a stuck ticket got its answer."
    )
    exported = io.StringIO()
    export_stories(exported)
    record = json.loads(exported.getvalue())
    assert list(record)[-2:] == ["featured", "search_description"]
    assert record["search_description"] == "How a stuck ticket got its answer."

    again = import_stories(jsonl(dict(RECORD, search_description="Changed.")), fmt="jsonl")

    assert (again.updated, again.unchanged) == (1, 0)
    assert StoryPage.objects.get(external_id="crm-1").search_description == "Changed."


def test_a_made_up_field_is_a_csv_column(made_up_field):
    import_stories(jsonl(RECORD), fmt="jsonl")
    exported = io.StringIO()

    export_stories(exported, fmt="csv")

    header, row = exported.getvalue().splitlines()
    assert header.split(",")[-2:] == ["featured", "search_description"]
    assert row.endswith(",false,How a stuck ticket got its answer.")


def test_records_keep_todays_keys_and_column_order():
    import_stories(
        jsonl(dict(RECORD, teller={"name": "Amara Okafor", "email": "amara@example.org"})), fmt="jsonl"
    )
    exported = io.StringIO()
    export_stories(exported, fmt="csv")
    lines = io.StringIO()
    export_stories(lines)

    assert exported.getvalue().splitlines()[0] == (
        "external_id,title,teller,teller_email,people,themes,outcomes,context,aha,outcome,occurred_on,"
        "visibility,publish,consent,impact_value,impact_unit,featured"
    )
    record = json.loads(lines.getvalue())
    assert list(record) == [
        "external_id", "title", "teller", "people", "themes", "outcomes", "context", "aha", "outcome",
        "occurred_on", "visibility", "publish", "consent", "impact_value", "impact_unit", "featured",
    ]  # fmt: skip
    assert record["teller"] == {"name": "Amara Okafor", "email": "amara@example.org"}
