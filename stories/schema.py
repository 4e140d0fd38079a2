"""A story's fields, declared once.

Every consumer reads this list instead of naming fields itself: the share form (its questions),
the admin's story panel, import and export (record keys and order), the API field list and the
search document (which fields are searched, and with what weight). Adding a field to a story is
one entry here plus its model field and migration.

Consumers call the functions below at the moment they need the fields (rather than copying the
list at import time), so the schema test can add a made-up field and watch it reach every one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """What a field holds, which decides how each consumer reads and writes it."""

    LINE = "line"  # one line of text
    TEXT = "text"  # paragraphs of plain text
    DECIMAL = "decimal"
    DATE = "date"
    CHOICE = "choice"  # one of the model field's choices
    FLAG = "flag"  # true or false
    COUNT = "count"  # a number the system keeps (not entered)
    PERSON = "person"  # one Person (the teller): exported as a name, and an e-mail when known
    PEOPLE = "people"  # several People, by name
    TERMS = "terms"  # several vocabulary items (themes, outcome types), by name
    RICH = "rich"  # the StreamField body: searched as text, not exported
    TRANSCRIPT = "transcript"  # the clip's timed segments: searched as text, not exported


@dataclass(frozen=True)
class StoryField:
    """One field of a story and what each consumer does with it.

    `name` is the model attribute. `record_key` is its key in import/export records (the name when
    empty). `search_weight` is the relative weight of a text match in it (None: not searched as
    text); `search_field` names it in the search document when that differs from `name`.
    `api_name` is the attribute the API shows (None: not in the API). `question`, `hint` and
    `messages` are what the share form asks and answers, for fields a teller fills in.
    """

    name: str
    kind: Kind
    label: str
    help_text: str = ""
    record_key: str = ""
    exported: bool = True
    search_weight: float | None = None
    search_field: str = ""
    snippet_label: str = ""
    api_name: str | None = None
    question: str = ""
    hint: str = ""
    messages: dict[str, str] = field(default_factory=dict)
    max_length: int | None = None
    in_share_form: bool = False
    required: bool = False
    too_short: str = ""  # the form's message when a required text is only a few characters

    @property
    def key(self) -> str:
        """The key in import/export records."""
        return self.record_key or self.name

    @property
    def document_field(self) -> str:
        """The key in the search document."""
        return self.search_field or self.name


STORY_FIELDS: tuple[StoryField, ...] = (
    StoryField(
        "external_id",
        Kind.LINE,
        "External id",
        help_text="Set by imports.",
        max_length=100,
    ),
    StoryField(
        "title",
        Kind.LINE,
        "Title",
        search_weight=5.0,
        question="Give your story a title",
        hint="A short headline, e.g. “One message to the research team saved a week”.",
        messages={
            "required": "Please give your story a title.",
            "max_length": "Please keep the title under %(limit_value)d characters (it has %(show_value)d).",
        },
        max_length=200,
        in_share_form=True,
        required=True,
    ),
    StoryField(
        "teller",
        Kind.PERSON,
        "Teller",
        search_weight=2.0,
        search_field="teller",
        api_name="teller_name",
    ),
    StoryField(
        "people",
        Kind.PEOPLE,
        "People",
        search_weight=2.0,
        search_field="people",
        api_name="people_names",
    ),
    StoryField(
        "themes",
        Kind.TERMS,
        "Themes",
        search_weight=2.0,
        api_name="theme_names",
    ),
    StoryField(
        "outcome_types",
        Kind.TERMS,
        "Outcome types",
        record_key="outcomes",
        search_weight=1.5,
        api_name="outcome_names",
    ),
    StoryField(
        "context",
        Kind.TEXT,
        "The situation",
        search_weight=2.0,
        snippet_label="Situation",
        api_name="context",
        question="What was the situation?",
        hint="Set the scene: what were you trying to do, and what was in the way?",
        messages={"required": "Please tell us about the situation before the aha moment."},
        max_length=10_000,
        in_share_form=True,
        required=True,
        too_short="Please say a little more about the situation (a sentence or two).",
    ),
    StoryField(
        "aha",
        Kind.TEXT,
        "The aha moment",
        search_weight=3.0,
        snippet_label="Aha",
        api_name="aha",
        question="What was your aha moment?",
        hint="The moment it clicked: what did you realise, discover or try?",
        messages={"required": "Please describe your aha moment: it is the heart of the story."},
        max_length=10_000,
        in_share_form=True,
        required=True,
        too_short="Please say a little more about your aha moment (a sentence or two).",
    ),
    StoryField(
        "outcome",
        Kind.TEXT,
        "What changed",
        search_weight=2.0,
        snippet_label="What changed",
        api_name="outcome",
        question="What changed? What was the result?",
        hint="What is different now, for you, your team or a customer?",
        messages={"required": "Please tell us what changed as a result."},
        max_length=10_000,
        in_share_form=True,
        required=True,
        too_short="Please say a little more about what changed (a sentence or two).",
    ),
    StoryField(
        "occurred_on",
        Kind.DATE,
        "When it happened",
        api_name="occurred_on",
    ),
    StoryField(
        "visibility",
        Kind.CHOICE,
        "Visibility",
        api_name="visibility",
    ),
    StoryField(
        "live",
        Kind.FLAG,
        "Published",
        record_key="publish",
    ),
    StoryField(
        "consent",
        Kind.FLAG,
        "The teller agreed to publish",
    ),
    StoryField(
        "impact_value",
        Kind.DECIMAL,
        "Impact",
        help_text='A number and its unit, for example "12" and "days saved".',
        api_name="impact",
    ),
    StoryField(
        "impact_unit",
        Kind.LINE,
        "Unit",
        max_length=60,
    ),
    StoryField(
        "featured",
        Kind.FLAG,
        "Featured",
    ),
    StoryField(
        "body",
        Kind.RICH,
        "Body",
        exported=False,
        search_weight=1.0,
        snippet_label="Story",
    ),
    StoryField(
        "transcript_segments",
        Kind.TRANSCRIPT,
        "Transcript",
        exported=False,
        search_weight=1.0,
        search_field="transcript_text",
        snippet_label="Transcript",
        api_name="transcript_text",
    ),
    StoryField("source", Kind.CHOICE, "Source", exported=False, api_name="source"),
    StoryField("helpful_count", Kind.COUNT, "Helpful votes", exported=False, api_name="helpful_count"),
)


def story_fields() -> tuple[StoryField, ...]:
    return STORY_FIELDS


def story_field(name: str) -> StoryField:
    """The declaration of one field, by model attribute name."""
    for story_field_ in STORY_FIELDS:
        if story_field_.name == name:
            return story_field_
    raise KeyError(name)


def exported_fields() -> list[StoryField]:
    """Fields in import/export records, in the records' column order."""
    return [story_field_ for story_field_ in STORY_FIELDS if story_field_.exported]


def searched_fields() -> list[StoryField]:
    """Fields whose text is searched, heaviest first."""
    searched = [story_field_ for story_field_ in STORY_FIELDS if story_field_.search_weight is not None]
    return sorted(searched, key=lambda story_field_: -(story_field_.search_weight or 0))


def search_weights() -> dict[str, float]:
    """Search-document field -> relative weight of a text match in it (the one weight table)."""
    return {story_field_.document_field: story_field_.search_weight for story_field_ in searched_fields()}


def snippet_labels() -> dict[str, str]:
    """Search-document field -> the label over a highlighted snippet from it, heaviest field first."""
    return {
        story_field_.document_field: story_field_.snippet_label
        for story_field_ in searched_fields()
        if story_field_.snippet_label
    }


def api_names() -> list[str]:
    """Attributes the pages API shows for a story."""
    return [story_field_.api_name for story_field_ in STORY_FIELDS if story_field_.api_name]


def share_form_fields() -> list[StoryField]:
    """Fields the share form asks about directly (relations and pictures have their own widgets)."""
    return [story_field_ for story_field_ in STORY_FIELDS if story_field_.in_share_form]
