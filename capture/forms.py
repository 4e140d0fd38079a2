"""The share form: one story in plain words, every field with a message a person can act on.

The story's own questions (title, situation, aha, what changed) come from `stories.schema`, read
each time a form is made; the relations, the picture and publishing have their own widgets here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from django import forms
from django.utils import timezone

from capture.images import StoryImageField, megabytes
from capture.models import MAX_ORIGIN_LENGTH
from stories.models import OutcomeType, Person, StoryPage, Theme, Visibility
from stories.params import QueryParams
from stories.schema import Kind, StoryField, share_form_fields, story_fields

NAME_SEPARATORS = re.compile(r"[,;\n]+")
EARLIEST_DATE = date(1900, 1, 1)
# A story text shorter than this is rarely a story (its field's `too_short` says what to add).
MIN_STORY_TEXT = 10
# Kinds of schema field a teller types or picks directly, and the form copies onto the story.
ASKED_KINDS = frozenset({Kind.LINE, Kind.TEXT, Kind.DECIMAL, Kind.DATE, Kind.CHOICE, Kind.FLAG})
# Kinds of schema field a link to the form may fill in (`/share/?context=…`).
PREFILLED_KINDS = frozenset({Kind.LINE, Kind.TEXT})


def split_names(text: str) -> list[str]:
    """Names typed into one box, separated by commas, semicolons or new lines; duplicates dropped."""
    names: list[str] = []
    for raw in NAME_SEPARATORS.split(text or ""):
        name = " ".join(raw.split())
        if name and name.casefold() not in {existing.casefold() for existing in names}:
            names.append(name)
    return names


class LineField(forms.CharField):
    """One line of text, with runs of spaces (pasted tabs, doubled spaces) made single."""

    def clean(self, value):
        return " ".join(super().clean(value).split())


class StoryTextField(forms.CharField):
    """A paragraph of the story, refused with the schema's `too_short` when it is only a few characters."""

    def __init__(self, *, too_short: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.too_short = too_short

    def clean(self, value):
        text = super().clean(value)
        if self.too_short and text and len(text) < MIN_STORY_TEXT:
            raise forms.ValidationError(self.too_short, code="too_short")
        return text


def schema_form_field(story_field: StoryField) -> forms.Field:
    """The share form's question for one field of the schema, built by its kind."""
    options = {
        "label": story_field.question or story_field.label,
        "help_text": story_field.hint,
        "required": story_field.required,
        "error_messages": dict(story_field.messages),
    }
    model_field = StoryPage._meta.get_field(story_field.name)
    match story_field.kind:
        case Kind.LINE:
            return LineField(max_length=story_field.max_length, **options)
        case Kind.TEXT:
            return StoryTextField(
                max_length=story_field.max_length,
                too_short=story_field.too_short,
                widget=forms.Textarea(attrs={"rows": 5}),
                **options,
            )
        case Kind.DECIMAL:
            return forms.DecimalField(
                max_digits=model_field.max_digits, decimal_places=model_field.decimal_places, **options
            )
        case Kind.DATE:
            return forms.DateField(**options)
        case Kind.CHOICE:
            return forms.ChoiceField(choices=model_field.choices, **options)
        case Kind.FLAG:
            return forms.BooleanField(**options)
    raise ValueError(f"The share form cannot ask for {story_field.name} ({story_field.kind}).")


def picture_field() -> StoryImageField:
    """The picture question, with Wagtail's limits as they are configured when the form is made."""
    field = StoryImageField(
        label="Choose a picture",
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )
    field.help_text = (
        f"A photo, drawing or screenshot: JPEG, PNG, WebP or GIF, up to {megabytes(field.max_upload_size)} MB. "
        "It becomes your story’s cover picture."
    )
    return field


def story_attributes() -> list[str]:
    """The story's attributes the share form fills in: the schema's questions and those asked below."""
    return [
        story_field.name
        for story_field in story_fields()
        if story_field.kind in ASKED_KINDS
        and (story_field.in_share_form or story_field.name in ShareStoryForm.base_fields)
    ]


class ShareStoryForm(forms.Form):
    """What a teller is asked; the model fields it fills are set in capture.story_form.

    The schema's questions are added in `__init__`, ahead of the fields declared here.
    """

    outcome_types = forms.ModelMultipleChoiceField(
        label="What kind of difference did it make?",
        help_text="Tick any that fit.",
        queryset=OutcomeType.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={
            "invalid_choice": "One of the outcome types you ticked no longer exists; please tick again."
        },
    )
    impact_value = forms.DecimalField(
        label="Number",
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        error_messages={
            "invalid": "Please enter a number, like 5 or 2.5.",
            "min_value": "Please enter a number of zero or more.",
            "max_digits": "That number is too long; please round it.",
            "max_decimal_places": "Please use at most two decimal places.",
        },
    )
    impact_unit = forms.CharField(
        label="Unit",
        help_text="For example “days saved” or “customers helped”.",
        required=False,
        max_length=60,
        error_messages={"max_length": "Please keep the unit under %(limit_value)d characters."},
    )
    themes = forms.ModelMultipleChoiceField(
        label="What is your story about?",
        help_text="Tick the themes your story is about, or propose a new one below: at least one, please.",
        queryset=Theme.objects.filter(is_approved=True),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={
            "invalid_choice": "One of the themes you ticked is no longer available; please tick again."
        },
    )
    new_themes = forms.CharField(
        label="Propose a new theme",
        help_text="Not listed? Type a name (separate several with commas); an editor will review it.",
        required=False,
        max_length=300,
        error_messages={"max_length": "Please keep proposed themes under %(limit_value)d characters in all."},
    )
    people = forms.ModelMultipleChoiceField(
        label="People you picked",
        queryset=Person.objects.all(),
        widget=forms.MultipleHiddenInput,
        required=False,
        error_messages={
            "invalid_choice": "One of the people you picked is no longer in the directory; please add them again."
        },
    )
    new_people = forms.CharField(
        label="People involved",
        help_text="Who helped, or who was it about? Start typing to find colleagues; separate names with commas. "
        "Someone we don’t know yet is added for an editor to check.",
        required=False,
        max_length=1_000,
        error_messages={"max_length": "Please keep the names under %(limit_value)d characters in all."},
    )
    occurred_on = forms.DateField(
        label="When did it happen?",
        help_text="Roughly is fine: pick the day it clicked.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        error_messages={
            "required": "Please tell us roughly when it happened.",
            "invalid": "Please enter a date like 2026-03-14.",
        },
    )
    image = picture_field()  # made again in __init__, so the limits are read per form
    image_alt = forms.CharField(
        label="Describe the picture for people who can’t see it",
        help_text="Needed when you add a picture, e.g. “Priya sketching the new process on a whiteboard”.",
        required=False,
        max_length=255,
        error_messages={"max_length": "Please keep the description under %(limit_value)d characters."},
    )
    visibility = forms.ChoiceField(
        label="Who may read it once published?",
        choices=Visibility.choices,
        initial=Visibility.STAFF,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Please choose who may read your story.",
            "invalid_choice": "Please choose public or staff only.",
        },
    )
    consent = forms.BooleanField(
        label="I agree that Storybank may publish this story, with my name, once an editor has reviewed it.",
        error_messages={
            "required": "Please tick this box to agree to publication; editors can only publish stories with your consent."
        },
    )
    # Where the link that opened the form came from, passed on untouched (capture.signals.story_shared).
    origin = forms.CharField(required=False, max_length=MAX_ORIGIN_LENGTH, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        questions = {story_field.name: schema_form_field(story_field) for story_field in share_form_fields()}
        self.fields = {
            **questions,
            **{name: field for name, field in self.fields.items() if name not in questions},
        }
        self.story_question_names = list(questions)
        self.fields["image"] = picture_field()
        self.fields["occurred_on"].widget.attrs["max"] = timezone.localdate().isoformat()

    @property
    def story_questions(self) -> list[forms.BoundField]:
        """The schema's questions, in its order: the first section of the form."""
        return [self[name] for name in self.story_question_names]

    def clean_occurred_on(self) -> date:
        occurred_on = self.cleaned_data["occurred_on"]
        if occurred_on > timezone.localdate():
            raise forms.ValidationError(
                "That date is in the future; please choose the day it happened.", code="future"
            )
        if occurred_on < EARLIEST_DATE:
            raise forms.ValidationError("Please check the year; that date looks too early.", code="too_early")
        return occurred_on

    def clean_new_themes(self) -> list[str]:
        names = split_names(self.cleaned_data["new_themes"])
        too_long = [name for name in names if len(name) > 100]
        if too_long:
            raise forms.ValidationError(
                "Please keep each theme name under 100 characters.", code="theme_too_long"
            )
        return names

    def clean_new_people(self) -> list[str]:
        names = split_names(self.cleaned_data["new_people"])
        too_long = [name for name in names if len(name) > 150]
        if too_long:
            raise forms.ValidationError("Please keep each name under 150 characters.", code="name_too_long")
        return names

    def clean(self) -> dict:
        cleaned = super().clean()
        if (
            cleaned.get("impact_unit")
            and cleaned.get("impact_value") is None
            and not self.has_error("impact_value")
        ):
            self.add_error(
                "impact_value", f"Please add the number that goes with “{cleaned['impact_unit']}”."
            )
        if not cleaned.get("themes") and not cleaned.get("new_themes") and not self.has_error("new_themes"):
            self.add_error(
                "themes",
                "Please choose at least one theme, or propose a new one: readers find stories by theme.",
            )
        if cleaned.get("image") and not (cleaned.get("image_alt") or "").strip():
            self.add_error(
                "image_alt", "Please describe the picture in a few words, for people using screen readers."
            )
        return cleaned

    @property
    def image_was_dropped(self) -> bool:
        """A valid picture cannot survive a re-render (browsers never refill file inputs)."""
        return self.is_bound and bool(self.files.get("image")) and not self.has_error("image")


def share_form_prefill(params: Mapping) -> dict:
    """A new story's starting values from the link that opened the form.

    Any of the story's text questions by name (`/share/?context=…` for the situation), and the
    link's `origin`. Another page can start a story this way without capture knowing that page;
    the teller sees, and may change, everything filled in.
    """
    reader = QueryParams(params)
    prefill = {
        story_field.name: reader.text(story_field.name, max_length=story_field.max_length)
        for story_field in share_form_fields()
        if story_field.kind in PREFILLED_KINDS and story_field.max_length
    }
    prefill["origin"] = reader.text("origin", max_length=MAX_ORIGIN_LENGTH)
    return {name: value for name, value in prefill.items() if value}


class EditStoryForm(ShareStoryForm):
    """The same questions for a story already shared; the picture may be kept, replaced or removed."""

    remove_image = forms.BooleanField(label="Remove the current picture", required=False)

    def __init__(self, *args, has_cover_image: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["origin"]  # a story is linked to where it came from once, when it is shared
        self.has_cover_image = has_cover_image
        if not has_cover_image:
            del self.fields["remove_image"]
        else:
            self.fields["image"].label = "Replace the picture (optional)"
            self.fields["image_alt"].help_text = "Needed only when you choose a new picture."
            self.fields["image"].help_text = self.fields["image"].help_text.replace(
                "It becomes", "It replaces"
            )
