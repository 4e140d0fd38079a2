"""The admin's question form (what editors curate) and the "Merge into…" choice."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from wagtail.admin.forms import WagtailAdminModelForm

from questions.models import Question, QuestionStatus
from stories.models import Theme

MAX_MERGE_SEARCH_LENGTH = 200


class QuestionAdminForm(WagtailAdminModelForm):
    """An editor corrects the words, the themes and whether the question is open or closed.

    "Answered" is what a published story or an accepted answer makes a question, never a choice;
    a question merged into another stays closed.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "themes" in self.fields:
            chosen = Q(pk__in=self.instance.themes.all()) if self.instance.pk else Q()
            self.fields["themes"].queryset = Theme.objects.filter(Q(is_approved=True) | chosen).order_by(
                "name"
            )

    def clean_status(self):
        status = self.cleaned_data["status"]
        was = self.instance.status
        if self.instance.merged_into_id is not None and status != QuestionStatus.CLOSED:
            raise forms.ValidationError(
                f"This question was merged into “{self.instance.merged_into}”: it stays closed."
            )
        if status == QuestionStatus.ANSWERED and was != QuestionStatus.ANSWERED:
            raise forms.ValidationError(
                "A question is answered by a published story or an accepted answer, not by hand."
            )
        return status


class MergeForm(forms.Form):
    """The question an editor chose to merge this one into; `questions.curation` says if it may be."""

    into = forms.ModelChoiceField(
        queryset=Question.objects.all(),
        label="Merge into",
        error_messages={
            "required": "Choose the question this one repeats.",
            "invalid_choice": "That question no longer exists.",
        },
    )


class MergeSearchForm(forms.Form):
    q = forms.CharField(
        label="Find the question it repeats", max_length=MAX_MERGE_SEARCH_LENGTH, required=False
    )
