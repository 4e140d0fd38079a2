"""What questions add to pages other apps render (registered in `stories.sections` at start-up).

Questions are for signed-in colleagues only, so each builder returns nothing, without a query,
for anyone else.
"""

from __future__ import annotations

from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Q
from django.urls import reverse

from questions.asking import accounts_that_are, questions_about, questions_routed_to
from questions.models import Answer, QuestionStatus
from questions.visibility import visible_questions
from stories.models import Person, StoryPage
from stories.sections import Section, provide_section
from stories.visibility import is_signed_in

SEARCH_QUESTIONS_SHOWN = 5


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


def questions_this_person_answered(request, person: Person) -> Section | None:
    """ "Questions answered" on a person's page: by a story they told or helped in, or by their accepted answer.

    One query, for signed-in readers only. A story counts only when this reader may read it, so a
    draft or withdrawn story never shows through the questions it answered.
    """
    if person.pk is None or not is_signed_in(request.user):
        return None
    their_stories = StoryPage.objects.visible_to(request.user).filter(Q(teller=person) | Q(people=person))
    their_accepted_answers = Answer.objects.filter(
        question=OuterRef("pk"),
        question__status=QuestionStatus.ANSWERED,
        accepted=True,
        author__in=accounts_that_are(person),
    )
    questions = list(
        visible_questions(request.user)
        .annotate(
            by_their_story=ExpressionWrapper(
                Q(status=QuestionStatus.ANSWERED, answered_by__in=their_stories.values("pk")),
                output_field=BooleanField(),
            ),
            by_their_answer=Exists(their_accepted_answers),
        )
        .filter(Q(by_their_story=True) | Q(by_their_answer=True))
        .select_related("answered_by")
        .order_by(F("answered_at").desc(nulls_last=True), "-pk")
    )
    if not questions:
        return None
    rows = [
        {"question": question, "story": question.answered_by if question.by_their_story else None}
        for question in questions
    ]
    return Section("questions/sections/person_questions.html", {"person": person, "rows": rows})


def questions_about_the_search(request, query) -> Section | None:
    """Questions about what was searched for, on /search/: open and answered ones, for signed-in readers."""
    if not query.text or not is_signed_in(request.user):
        return None
    found = questions_about(query.text, request.user).filter(
        status__in=[QuestionStatus.OPEN, QuestionStatus.ANSWERED], merged_into__isnull=True
    )
    shown = list(found.order_by("-created_at", "-pk")[: SEARCH_QUESTIONS_SHOWN + 1])
    if not shown:
        return None
    return Section(
        "questions/sections/search_questions.html",
        {
            "questions": shown[:SEARCH_QUESTIONS_SHOWN],
            "more": len(shown) > SEARCH_QUESTIONS_SHOWN,
            "text": query.text,
        },
    )


def register() -> None:
    provide_section("story_page", "questions_answered", questions_this_story_answered)
    provide_section("my_stories", "questions_for_you", questions_for_you)
    provide_section("person_page", "questions_answered", questions_this_person_answered)
    provide_section("search_page", "questions_about", questions_about_the_search)
