"""What questions add to pages other apps render (registered in `stories.sections` at start-up).

Questions are for signed-in colleagues only, so each builder returns nothing, without a query,
for anyone else.
"""

from __future__ import annotations

from django.urls import reverse

from questions.asking import questions_routed_to
from questions.models import QuestionStatus
from questions.visibility import visible_questions
from stories.models import StoryPage
from stories.sections import Section, provide_section
from stories.visibility import is_signed_in


def questions_this_story_answered(request, story: StoryPage) -> Section | None:
    """ "Questions this story answered" on its page: one query, for signed-in readers only."""
    if story.pk is None or not is_signed_in(request.user):
        return None
    questions = list(
        visible_questions(request.user)
        .filter(answered_by=story, status=QuestionStatus.ANSWERED)
        .only("pk", "text", "answered_at")
        .order_by("-answered_at", "-pk")
    )
    if not questions:
        return None
    return Section("questions/sections/answered_questions.html", {"questions": questions})


def questions_for_you(request) -> Section | None:
    """ "Questions for you" on My stories: open questions routed to the signed-in teller."""
    if not is_signed_in(request.user):
        return None
    rows = [
        {
            "question": question,
            "tell_url": reverse("questions:tell", args=[question.pk]),
        }
        for question in questions_routed_to(request.user).order_by("-created_at", "-pk")
    ]
    if not rows:
        return None
    return Section("questions/sections/questions_for_you.html", {"rows": rows})


def register() -> None:
    provide_section("story_page", "questions_answered", questions_this_story_answered)
    provide_section("my_stories", "questions_for_you", questions_for_you)
