"""The story schema is the one declaration every consumer reads.

The walk checks each declared field against each consumer; the made-up field shows that adding a
field to `stories.schema` reaches the share form, export and import, the API and the search
document without editing any of them. Its column, `search_description`, already exists on Page
(standing in for the model field and migration a real new field needs); the API shows it as
`one_line`, because Wagtail's API already lists `search_description` among a page's meta fields.
"""

from __future__ import annotations

import io
import json

import pytest

from capture.forms import ShareStoryForm
from search.documents import story_document
from stories import schema
from stories.importing import export_stories, import_stories
from stories.models import StoryPage
from tests.factories import StoryPageFactory, ThemeFactory

pytestmark = pytest.mark.django_db

MADE_UP = schema.StoryField(
    "search_description",
    schema.Kind.TEXT,
    "In one line",
    search_weight=1.0,
    snippet_label="In one line",
    api_name="one_line",
    question="Say it in one line",
    hint="The story as one sentence.",
    max_length=500,
    in_share_form=True,
)


@pytest.fixture
def made_up_field(monkeypatch):
    monkeypatch.setattr(schema, "STORY_FIELDS", (*schema.STORY_FIELDS, MADE_UP))
    monkeypatch.setattr(
        StoryPage, "one_line", property(lambda story: story.search_description), raising=False
    )
    return MADE_UP


def exported_record(story: StoryPage) -> dict:
    stream = io.StringIO()
    export_stories(stream, queryset=StoryPage.objects.filter(pk=story.pk))
    return json.loads(stream.getvalue())


def test_every_declared_field_is_a_story_attribute():
    for story_field in schema.story_fields():
        assert hasattr(StoryPage, story_field.name), story_field.name
        if story_field.api_name:
            assert hasattr(StoryPage, story_field.api_name), story_field.api_name


def test_every_consumer_reads_the_declared_fields():
    story = StoryPageFactory(title="Declared once", impact_value=2, impact_unit="days saved")
    record = exported_record(story)
    document = story_document(story)
    api_names = [field.name for field in StoryPage.api_fields]
    form = ShareStoryForm()
    for story_field in schema.story_fields():
        if story_field.exported:
            assert story_field.key in record, story_field.key
        if story_field.search_weight is not None:
            assert story_field.document_field in document, story_field.document_field
        if story_field.api_name:
            assert story_field.api_name in api_names, story_field.api_name
        if story_field.in_share_form:
            assert form.fields[story_field.name].label == story_field.question


def test_a_made_up_field_reaches_the_form(made_up_field):
    form = ShareStoryForm()
    html = str(form[made_up_field.name].label_tag()) + str(form[made_up_field.name])
    assert "Say it in one line" in html
    assert form.fields[made_up_field.name].help_text == "The story as one sentence."
    assert form.fields[made_up_field.name].max_length == 500


def test_a_made_up_field_reaches_export_and_import(made_up_field):
    story = StoryPageFactory(
        title="Declared once", themes=[ThemeFactory()], search_description="A question moved out of email."
    )
    record = exported_record(story)
    assert record["search_description"] == "A question moved out of email."

    record["search_description"] = "Changed by the import."
    report = import_stories(io.StringIO(json.dumps(record) + "\n"), fmt="jsonl")
    assert (report.updated, report.failed) == (1, 0)
    story.refresh_from_db()
    assert story.search_description == "Changed by the import."


def test_a_made_up_field_reaches_the_api(made_up_field, client):
    story = StoryPageFactory(title="Declared once", search_description="A question moved out of email.")
    response = client.get(f"/api/v2/pages/{story.pk}/")
    assert response.status_code == 200
    assert response.json()["one_line"] == "A question moved out of email."


def test_a_made_up_field_reaches_the_search_document(made_up_field):
    story = StoryPageFactory(title="Declared once", search_description="A question moved out of email.")
    assert story_document(story)["search_description"] == "A question moved out of email."
    assert schema.search_weights()["search_description"] == 1.0
