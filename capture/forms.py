"""The share form: one story in plain words, every field with a message a person can act on."""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.utils import timezone

from capture.images import CheckedImage, check_image_upload
from stories.models import OutcomeType, Person, Theme, Visibility

NAME_SEPARATORS = re.compile(r"[,;\n]+")
EARLIEST_DATE = date(1900, 1, 1)


def split_names(text: str) -> list[str]:
    """Names typed into one box, separated by commas, semicolons or new lines; duplicates dropped."""
    names: list[str] = []
    for raw in NAME_SEPARATORS.split(text or ""):
        name = " ".join(raw.split())
        if name and name.casefold() not in {existing.casefold() for existing in names}:
            names.append(name)
    return names


class ShareStoryForm(forms.Form):
    """What a teller is asked; the model fields it fills are set in capture.story_form."""

    title = forms.CharField(
        label="Give your story a title",
        help_text="A short headline, e.g. “One message to the research team saved a week”.",
        max_length=200,
        error_messages={
            "required": "Please give your story a title.",
            "max_length": "Please keep the title under %(limit_value)d characters (it has %(show_value)d).",
        },
    )
    context = forms.CharField(
        label="What was the situation?",
        help_text="Set the scene: what were you trying to do, and what was in the way?",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=10_000,
        error_messages={"required": "Please tell us about the situation before the aha moment."},
    )
    aha = forms.CharField(
        label="What was your aha moment?",
        help_text="The moment it clicked: what did you realise, discover or try?",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=10_000,
        error_messages={"required": "Please describe your aha moment: it is the heart of the story."},
    )
    outcome = forms.CharField(
        label="What changed? What was the result?",
        help_text="What is different now, for you, your team or a customer?",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=10_000,
        error_messages={"required": "Please tell us what changed as a result."},
    )
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
    image = forms.FileField(
        label="Choose a picture",
        help_text="",  # set in __init__ from the limits
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )
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

    def __init__(self, *args, **kwargs) -> None:
        from django.conf import settings

        super().__init__(*args, **kwargs)
        self.checked_image: CheckedImage | None = None
        self.fields["image"].help_text = (
            f"A photo, drawing or screenshot: JPEG, PNG, WebP or GIF, up to {settings.MAX_IMAGE_MB} MB. "
            "It becomes your story’s cover picture."
        )
        self.fields["occurred_on"].widget.attrs["max"] = timezone.localdate().isoformat()

    def clean_title(self) -> str:
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise forms.ValidationError("Please give your story a title.", code="required")
        return title

    def _clean_story_text(self, name: str, message: str) -> str:
        text = self.cleaned_data[name].strip()
        if len(text) < 10:
            raise forms.ValidationError(message, code="too_short")
        return text

    def clean_context(self) -> str:
        return self._clean_story_text(
            "context", "Please say a little more about the situation (a sentence or two)."
        )

    def clean_aha(self) -> str:
        return self._clean_story_text(
            "aha", "Please say a little more about your aha moment (a sentence or two)."
        )

    def clean_outcome(self) -> str:
        return self._clean_story_text(
            "outcome", "Please say a little more about what changed (a sentence or two)."
        )

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

    def clean_image(self):
        upload = self.cleaned_data.get("image")
        if upload:
            self.checked_image = check_image_upload(upload)
        return upload

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


class EditStoryForm(ShareStoryForm):
    """The same questions for a story already shared; the picture may be kept, replaced or removed."""

    remove_image = forms.BooleanField(label="Remove the current picture", required=False)

    def __init__(self, *args, has_cover_image: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.has_cover_image = has_cover_image
        if not has_cover_image:
            del self.fields["remove_image"]
        else:
            self.fields["image"].label = "Replace the picture (optional)"
            self.fields["image_alt"].help_text = "Needed only when you choose a new picture."
            self.fields["image"].help_text = self.fields["image"].help_text.replace(
                "It becomes", "It replaces"
            )
