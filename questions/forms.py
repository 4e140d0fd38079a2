"""The ask box, the "answer by pointing to a story" form and the written answer."""

from __future__ import annotations

from django import forms

from questions.models import MAX_ANSWER_LENGTH, MAX_QUESTION_LENGTH

MAX_STORY_REFERENCE_LENGTH = 500


class AskForm(forms.Form):
    """One question in the asker's own words; `q`, so /ask/?q=… links from anywhere preview it."""

    q = forms.CharField(
        label="Your question",
        max_length=MAX_QUESTION_LENGTH,
        help_text="Ask it as you would ask a colleague: what you are trying to do, and where you are stuck.",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Type your question first.",
            "max_length": (
                f"Keep your question under {MAX_QUESTION_LENGTH} characters "
                "(it has %(show_value)d): the situation and the one thing you need to know."
            ),
        },
    )


class ChosenStoryForm(AskForm):
    """ "This answers my question": the question as asked and the suggested story it names."""

    story = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        max_value=2**31 - 1,
        error_messages={"required": "Choose the story that answers your question."},
    )


class PointToStoryForm(forms.Form):
    story = forms.CharField(
        label="A story that answers it",
        max_length=MAX_STORY_REFERENCE_LENGTH,
        help_text="Paste the story’s address (…/stories/its-name/), or its number.",
        error_messages={"required": "Choose a story, or paste the address of one, to answer this question."},
    )


class WrittenAnswerForm(forms.Form):
    text = forms.CharField(
        label="Your answer",
        max_length=MAX_ANSWER_LENGTH,
        help_text="What you did, who to ask, where to look: your answer is kept on this page for everyone.",
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": "Write your answer first.",
            "max_length": f"Keep your answer under {MAX_ANSWER_LENGTH} characters (it has %(show_value)d).",
        },
    )
