"""Asking the library (/ask/), a question's page (/questions/<id>/) and the board (/questions/).

Thin: read the form, call questions.asking, render. Every view is for signed-in colleagues:
anonymous readers are sent to sign in, as for a staff-only story, and see no question.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from questions import asking, feeds
from questions.answered import with_answers
from questions.curation import end_of_merges
from questions.forms import AskForm, ChosenStoryForm, PointToStoryForm, WrittenAnswerForm
from questions.models import MAX_QUESTION_LENGTH, Question, QuestionMute, QuestionStatus, RoutingOptOut
from questions.notifications import (
    notify_of_accepted_answer,
    notify_of_story_answer,
    notify_of_written_answer,
    notify_routed_people,
)
from questions.signed_links import QUESTION_MUTE, ROUTING_OPT_OUT, confirm_then_act
from questions.telling import share_form_url, voice_recorder_url
from questions.visibility import shown_answer, visible_questions
from search.display import shown_result
from stories.listing import page_links, paginate
from stories.models import Person, Theme
from stories.params import QueryParams

QUESTIONS_PER_PAGE = 20
BOARD_TABS = (QuestionStatus.OPEN, QuestionStatus.ANSWERED)


def _render_ask(request: HttpRequest, form: AskForm, *, status: int = 200, refusal: str = "") -> HttpResponse:
    context = {"form": form, "refusal": refusal, "route_to": settings.QUESTIONS_ROUTE_TO}
    if form.is_bound and form.is_valid() and not refusal:
        suggestions = asking.suggest_answers(form.cleaned_data["q"], request.user)
        context.update(
            {
                "question_text": form.cleaned_data["q"],
                "suggestions": suggestions,
                "results": [shown_result(result) for result in suggestions.search.results],
                "query": suggestions.search.query,
                "people_who_know": suggestions.people,
                "similar_questions": suggestions.similar,
            }
        )
    return render(request, "questions/ask.html", context, status=status)


@login_required
@require_GET
def ask(request: HttpRequest) -> HttpResponse:
    """/ask/ and /ask/?q=…: the ask box, and at once what the library already knows."""
    if not request.GET.get("q", "").strip():
        return _render_ask(request, AskForm())
    form = AskForm(request.GET)
    return _render_ask(request, form, status=200 if form.is_valid() else 400)


@login_required
@require_POST
def answered_by_suggestion(request: HttpRequest) -> HttpResponse:
    """ "This answers my question": stored as answered by that story, which also helped."""
    form = ChosenStoryForm(request.POST)
    if not form.is_valid():
        return _render_ask(request, form, status=400)
    story = asking.readable_story(form.cleaned_data["story"], request.user)
    if story is None:
        return _render_ask(request, form, status=400, refusal="That story is not one you can read any more.")
    question = asking.record_answered_question(form.cleaned_data["q"], story, request.user)
    messages.success(request, f"Thank you: your question is kept as answered by “{story.title}”.")
    return redirect(question)


@login_required
@require_POST
def post_question(request: HttpRequest) -> HttpResponse:
    """ "Post my question": an open question, routed to the people who know and e-mailed to them."""
    form = AskForm(request.POST)
    if not form.is_valid():
        return _render_ask(request, form, status=400)
    question, routed = asking.post_question(form.cleaned_data["q"], request.user)
    notify_routed_people(question, routed)
    if routed:
        names = ", ".join(routed_person.routing.person.name for routed_person in routed)
        messages.success(request, f"Your question is posted, and was sent to {names}.")
    else:
        messages.success(request, "Your question is posted on the board for colleagues to answer.")
    return redirect(question)


def _render_question(
    request: HttpRequest,
    question,
    *,
    form: PointToStoryForm | None = None,
    written_form: WrittenAnswerForm | None = None,
    status: int = 200,
) -> HttpResponse:
    suggested = asking.suggested_stories(question.text, request.user) if question.is_open else None
    written = list(question.answers.select_related("author"))
    context = {
        "question": question,
        "answer": shown_answer(question, request.user),
        "written_answers": written,
        "accepted_answer": next((answer for answer in written if answer.accepted), None),
        "may_accept": question.is_open and asking.may_accept(question, request.user),
        "written_form": written_form or WrittenAnswerForm(),
        "following": question.followers.filter(pk=request.user.pk).exists(),
        "is_asker": question.asker_id == request.user.pk,
        "voice_url": voice_recorder_url(question, request.user) if question.is_open else "",
        "routings": question.routings.select_related("person"),
        "suggested": suggested,
        "results": [shown_result(result) for result in suggested.results] if suggested else [],
        "form": form or PointToStoryForm(),
        "may_close": question.is_open and asking.may_close(question, request.user),
        "stories_in_review": question.stories_in_answer.filter(story__live=False).count()
        if question.is_open
        else 0,
    }
    return render(request, "questions/question.html", context, status=status)


def _question_or_404(request: HttpRequest, question_id: int):
    return get_object_or_404(visible_questions(request.user).select_related("asker"), pk=question_id)


@login_required
@require_GET
def question_detail(request: HttpRequest, question_id: int) -> HttpResponse:
    question = _question_or_404(request, question_id)
    if question.merged_into_id is not None:
        target = end_of_merges(question)
        if target.pk != question.pk:
            messages.info(request, "That question was merged into this one: its answers are here.")
            return redirect(target)
    return _render_question(request, question)


@login_required
@require_POST
def write_answer(request: HttpRequest, question_id: int) -> HttpResponse:
    """A written answer: posted on the page, and the asker and followers are told."""
    question = _question_or_404(request, question_id)
    form = WrittenAnswerForm(request.POST)
    if not form.is_valid():
        return _render_question(request, question, written_form=form, status=400)
    try:
        answer = asking.write_answer(question, form.cleaned_data["text"], request.user)
    except asking.AnswerRefused as refusal:
        form.add_error("text", refusal.reason)
        return _render_question(request, question, written_form=form, status=400)
    notify_of_written_answer(question, answer)
    messages.success(request, "Thank you: your answer is posted.")
    return redirect(f"{question.get_absolute_url()}#answer-{answer.pk}")


@login_required
@require_POST
def accept_answer(request: HttpRequest, question_id: int, answer_id: int) -> HttpResponse:
    """The asker says a written answer answers it: the question is kept as answered."""
    question = _question_or_404(request, question_id)
    answer = get_object_or_404(question.answers, pk=answer_id)
    try:
        asking.accept_answer(question, answer, request.user)
    except PermissionError as error:
        raise PermissionDenied(str(error)) from error
    except asking.AnswerRefused as refusal:
        messages.error(request, refusal.reason)
        return redirect(question)
    notify_of_accepted_answer(question, answer)
    messages.success(
        request, f"Thank you: the question is kept as answered by {answer.author_name}’s answer."
    )
    return redirect(question)


@login_required
@require_POST
def follow_question(request: HttpRequest, question_id: int) -> HttpResponse:
    question = _question_or_404(request, question_id)
    if asking.toggle_following(question, request.user):
        messages.success(request, "You are told by e-mail when this question is answered.")
    else:
        messages.info(request, "You no longer follow this question.")
    return redirect(question)


@login_required
@require_POST
def answer_question(request: HttpRequest, question_id: int) -> HttpResponse:
    """Answer by pointing to a published story the answerer may read; the asker is told."""
    question = _question_or_404(request, question_id)
    form = PointToStoryForm(request.POST)
    if not form.is_valid():
        return _render_question(request, question, form=form, status=400)
    try:
        story = asking.story_named_by(form.cleaned_data["story"], request.user)
        question = asking.answer_question(question, story, request.user)
    except asking.AnswerRefused as refusal:
        form.add_error("story", refusal.reason)
        return _render_question(request, question, form=form, status=400)
    notify_of_story_answer(question, story, request.user)
    messages.success(request, f"Thank you: the question is answered by “{story.title}”.")
    return redirect(question)


@login_required
@require_GET
def tell_story(request: HttpRequest, question_id: int) -> HttpResponse:
    """ "Tell the story that answers it": the share form, the question filled in as the situation.

    The link carries a signed origin naming the question and this teller; the draft the form
    saves is linked to the question, which closes once an editor publishes the story.
    """
    question = _question_or_404(request, question_id)
    if not question.is_open:
        messages.info(request, f"This question is already {question.get_status_display().lower()}.")
        return redirect(question)
    return redirect(share_form_url(question, request.user))


@login_required
@require_POST
def close_question(request: HttpRequest, question_id: int) -> HttpResponse:
    question = _question_or_404(request, question_id)
    try:
        asking.close_question(question, request.user)
    except PermissionError as error:
        raise PermissionDenied(str(error)) from error
    messages.success(request, "The question is closed.")
    return redirect(question)


@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    """/questions/: open or answered questions, newest first, by theme."""
    params = QueryParams(request.GET)
    status = params.choice("status", BOARD_TABS, default=QuestionStatus.OPEN)
    theme_slug = params.text("theme")
    theme = Theme.objects.filter(slug=theme_slug, is_approved=True).first() if theme_slug else None
    search_text = params.text("q", max_length=MAX_QUESTION_LENGTH).strip()
    questions = (
        asking.questions_about(search_text, request.user) if search_text else visible_questions(request.user)
    ).filter(status=status)
    if theme_slug:
        questions = questions.filter(themes=theme) if theme else questions.none()
    page_obj = paginate(
        questions.select_related("asker").prefetch_related("themes"), request, per_page=QUESTIONS_PER_PAGE
    )
    context = {
        "tabs": [{"status": tab, "label": tab.label, "current": tab == status} for tab in BOARD_TABS],
        "status": QuestionStatus(status),
        "theme_slug": theme_slug,
        "search_text": search_text,
        "theme": theme,
        "themes": Theme.objects.filter(is_approved=True, questions__isnull=False).distinct(),
        "page_obj": page_obj,
        "page_links": page_links(page_obj),
        "rows": with_answers(page_obj.object_list, request.user),
        # The reader's own feed (about the chosen theme): its key costs a query, so it is made once.
        "feed_url": feeds.answered_feed_url(request.user, theme),
    }
    return render(request, "questions/board.html", context)


@login_required
@require_POST
def new_feed_address(request: HttpRequest) -> HttpResponse:
    """/questions/feeds/new-address/: the reader's old feed addresses stop working (one shared by mistake)."""
    feeds.new_feed_address(request.user)
    messages.success(
        request,
        "Your feed addresses changed: the old ones open nothing now. Give your feed reader the new one below.",
    )
    return redirect("questions:board")


def _question_and_colleague(question_id: int, user_id: int) -> dict:
    return {
        "question": get_object_or_404(Question, pk=question_id),
        "colleague": get_object_or_404(get_user_model(), pk=user_id),
    }


# /questions/stop/<token>/: the routing e-mail's "stop sending me questions".
stop_routing = confirm_then_act(
    ROUTING_OPT_OUT,
    "questions/stop_routing.html",
    load=lambda person_id: {"person": get_object_or_404(Person, pk=person_id)},
    act=asking.stop_routing_to,
    done=lambda person: RoutingOptOut.objects.filter(person=person).exists(),
)

# /questions/quiet/<token>/: "no more e-mails about this question", for one colleague.
mute_question = confirm_then_act(
    QUESTION_MUTE,
    "questions/mute_question.html",
    load=_question_and_colleague,
    act=asking.hear_no_more,
    done=lambda question, user: QuestionMute.objects.filter(question=question, user=user).exists(),
)
