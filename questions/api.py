"""/api/questions/ and /api/questions/<id>/: the questions a signed-in colleague may see, as JSON.

The same rule as the board (`questions.visibility`): anonymous callers get a 403 and no question;
the story that answered a question is named only to callers who may read it. Parameters are read
through stories.params, so a malformed or unknown value is a 400 JSON that says why (answered by
stories.middleware, as for /api/search/).
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from questions.models import Answer, Question, QuestionStatus
from questions.visibility import shown_answers, visible_questions
from stories.listing import approved_themes, paginate
from stories.models import StoryPage, Theme
from stories.params import BadParameter, QueryParams
from stories.visibility import is_signed_in

QUESTIONS_PER_PAGE = 20


def _refused() -> JsonResponse:
    return JsonResponse({"error": "Sign in to see questions.", "login_url": settings.LOGIN_URL}, status=403)


def _with_themes(questions):
    return questions.select_related("asker").prefetch_related(
        Prefetch("themes", queryset=approved_themes().order_by("name"))
    )


def _theme(theme: Theme) -> dict:
    return {"slug": theme.slug, "name": theme.name}


def _story(story: StoryPage | None) -> dict | None:
    return {"id": story.pk, "title": story.title, "url": story.url} if story else None


def question_payload(question: Question, answered_by: StoryPage | None) -> dict:
    """One question as the API shows it; `answered_by` is the story only when the caller may read it."""
    return {
        "id": question.pk,
        "text": question.text,
        "status": question.status,
        "created_at": question.created_at.isoformat(),
        "answered_at": question.answered_at.isoformat() if question.answered_at else None,
        "asker": question.asker_name,
        "themes": [_theme(theme) for theme in question.themes.all()],
        "answered_by": _story(answered_by),
        "url": question.get_absolute_url(),
    }


def _chosen_theme(params: QueryParams) -> Theme | None:
    slug = params.text("theme")
    if not slug:
        return None
    theme = approved_themes().filter(slug=slug).first()
    if theme is None:
        raise BadParameter("theme", f"names no theme: “{slug[:40]}” is not one")
    return theme


def _page_url(request: HttpRequest, number: int) -> str:
    params = request.GET.copy()
    params["page"] = str(number)
    return f"{request.path}?{params.urlencode()}"


@require_GET
def question_list(request: HttpRequest) -> JsonResponse:
    """Newest first, `?status=` and `?theme=` to narrow, `?page=` to page (a page past the last gives the last)."""
    if not is_signed_in(request.user):
        return _refused()
    params = QueryParams(request.GET)
    status = params.choice("status", QuestionStatus.values, default="")
    theme = _chosen_theme(params)
    questions = visible_questions(request.user)
    if status:
        questions = questions.filter(status=status)
    if theme is not None:
        questions = questions.filter(themes=theme)
    page_obj = paginate(_with_themes(questions), request, per_page=QUESTIONS_PER_PAGE)
    answers = shown_answers(page_obj.object_list, request.user)
    return JsonResponse(
        {
            "query": {"status": status, "theme": theme.slug if theme else ""},
            "total": page_obj.paginator.count,
            "page": page_obj.number,
            "per_page": QUESTIONS_PER_PAGE,
            "page_count": page_obj.paginator.num_pages,
            "next": _page_url(request, page_obj.next_page_number()) if page_obj.has_next() else None,
            "previous": _page_url(request, page_obj.previous_page_number())
            if page_obj.has_previous()
            else None,
            "results": [question_payload(question, answers.get(question.pk)) for question in page_obj],
        }
    )


def _answer(answer: Answer) -> dict:
    return {
        "id": answer.pk,
        "text": answer.text,
        "author": answer.author_name,
        "source": answer.source,
        "created_at": answer.created_at.isoformat(),
        "accepted": answer.accepted,
    }


@require_GET
def question_detail(request: HttpRequest, question_id: int) -> JsonResponse:
    """One question with its written answers, oldest first; a question the caller may not see is a 404."""
    if not is_signed_in(request.user):
        return _refused()
    question = _with_themes(visible_questions(request.user)).filter(pk=question_id).first()
    if question is None:
        return JsonResponse({"error": "There is no question with this id."}, status=404)
    answers = question.answers.select_related("author").order_by("created_at", "pk")
    merged_into = None
    if question.merged_into_id:
        merged_into = visible_questions(request.user).filter(pk=question.merged_into_id).first()
    return JsonResponse(
        {
            **question_payload(question, shown_answers([question], request.user).get(question.pk)),
            "merged_into": merged_into.get_absolute_url() if merged_into else None,
            "answers": [_answer(answer) for answer in answers],
        }
    )
