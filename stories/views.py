"""Public story views outside the page tree: themes, outcomes, people, transcripts and "this helped me".

The library, story and home pages are Wagtail pages; their context comes from stories/listing.py too.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from stories import listing
from stories.helpful import toggle_helpful_vote
from stories.models import StoryPage
from stories.params import QueryParams
from stories.transcripts import TRANSCRIPT_FORMATS, render_transcript


def theme_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "stories/theme_page.html", listing.theme_context(request, slug))


def outcome_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "stories/outcome_page.html", listing.outcome_context(request, slug))


def people_directory(request: HttpRequest) -> HttpResponse:
    return render(request, "stories/people_page.html", listing.people_directory_context(request))


def person_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "stories/person_page.html", listing.person_context(request, slug))


def _readable_story_or_login(request: HttpRequest, story_id: int) -> StoryPage | HttpResponse:
    """The story if this reader may see it; a sign-in redirect for a live staff-only story; else 404."""
    story = StoryPage.objects.visible_to(request.user).filter(pk=story_id).first()
    if story is not None:
        return story
    if not request.user.is_authenticated and StoryPage.objects.live().public().filter(pk=story_id).exists():
        return redirect_to_login(request.get_full_path())
    raise Http404("No such story")


def transcript_download(request: HttpRequest, story_id: int, transcript_format: str) -> HttpResponse:
    """The story's transcript as .txt, .vtt or .srt; `?inline=1` serves it for a <track> element."""
    if transcript_format not in TRANSCRIPT_FORMATS:
        raise Http404("Unknown transcript format")
    story = _readable_story_or_login(request, story_id)
    if isinstance(story, HttpResponse):
        return story
    segments = list(story.transcript_segments.all())
    if not segments:
        raise Http404("This story has no transcript")
    content = render_transcript(segments, transcript_format, title=story.title)
    response = HttpResponse(content, content_type=TRANSCRIPT_FORMATS[transcript_format])
    if not QueryParams(request.GET).flag("inline"):
        response["Content-Disposition"] = f'attachment; filename="{story.slug}.{transcript_format}"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
def helpful_toggle(request: HttpRequest, story_id: int) -> HttpResponse:
    """Toggle the reader's "this helped me" vote; JSON for the page's script, a redirect for a plain form."""
    story = get_object_or_404(StoryPage.objects.visible_to(request.user), pk=story_id)
    if not request.user.is_authenticated:
        if _wants_json(request):
            return JsonResponse(
                {"error": "Sign in to say a story helped you.", "login_url": "/accounts/login/"}, status=403
            )
        return redirect_to_login(story.url or "/")
    voted, count = toggle_helpful_vote(story, request.user)
    if _wants_json(request):
        return JsonResponse({"voted": voted, "count": count})
    return redirect(f"{story.url}#helpful")
