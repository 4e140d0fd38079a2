"""The clip journey: record or upload at /share/voice/, then follow it at /share/<id>/ until the draft is ready."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from capture.clip_intake import create_submission, upload_field_name
from capture.media_probe import ClipRefused, format_duration
from capture.models import (
    GUIDED_PROMPTS,
    MAX_ORIGIN_LENGTH,
    MAX_SPEAKER_LENGTH,
    ClipSubmission,
    Prompt,
    SubmissionMode,
)
from capture.rate_limit import clip_refusal_reason, queued_clip_limit_message, queued_clip_limit_reached
from capture.tasks import retry_submission
from stories.middleware import wants_json
from stories.models import Visibility
from stories.params import QueryParams
from stories.visibility import is_editor

# What the recorder's link says the clip answers (a colleague's question), shown above the recorder.
MAX_ANSWERING_LENGTH = 500

PROMPT_HINTS = {
    Prompt.CONTEXT: "Where were you, what were you trying to do, and what was in the way?",
    Prompt.AHA: "What did you realise, or who showed you? Describe the moment it clicked.",
    Prompt.OUTCOME: "What is different now? Time saved, a customer won, a problem gone…",
}


def _voice_context(**extra) -> dict:
    return {
        "guided_prompts": [
            {
                "value": prompt.value,
                "label": prompt.label,
                "hint": PROMPT_HINTS[prompt],
                "field": upload_field_name(prompt),
            }
            for prompt in GUIDED_PROMPTS
        ],
        "max_clip_seconds": settings.MAX_CLIP_SECONDS,
        "max_clip_duration": format_duration(settings.MAX_CLIP_SECONDS),
        "max_upload_mb": settings.MAX_UPLOAD_MB,
        "max_speaker_length": MAX_SPEAKER_LENGTH,
        "visibility_choices": Visibility.choices,
        "accept": "audio/*,video/mp4,video/quicktime,video/webm,.wav,.mp3,.m4a,.aac,.ogg,.opus,.webm,.flac,.mp4,.mov",
        **extra,
    }


def _refuse(
    request: HttpRequest, message: str, status: int, *, field: str | None = None, posted=None
) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"error": message, "field": field}, status=status)
    return render(
        request,
        "capture/voice.html",
        _voice_context(
            error=message,
            error_field=field,
            posted=posted or {},
            origin=request.POST.get("origin", "")[:MAX_ORIGIN_LENGTH],
        ),
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def voice_share(request: HttpRequest) -> HttpResponse:
    """GET: the recorder and upload form. POST: accept the clip(s) and lead to the status page."""
    if request.method == "GET":
        link = QueryParams(request.GET)
        return render(
            request,
            "capture/voice.html",
            _voice_context(
                posted={},
                limit_notice=clip_refusal_reason(request.user),
                origin=link.text("origin", max_length=MAX_ORIGIN_LENGTH),
                answering=link.text("context", max_length=MAX_ANSWERING_LENGTH),
            ),
        )
    # The body's size was checked before it was read (operations.upload_limits).
    mode = request.POST.get("mode", SubmissionMode.FREE)
    if mode not in SubmissionMode.values:
        mode = SubmissionMode.FREE
    posted = {
        "mode": mode,
        "consent": bool(request.POST.get("consent")),
        "visibility": request.POST.get("visibility"),
        "speaker_left": request.POST.get("speaker_left", ""),
        "speaker_right": request.POST.get("speaker_right", ""),
    }
    for field in ("speaker_left", "speaker_right"):
        if len(posted[field]) > MAX_SPEAKER_LENGTH:
            message = f"Please keep each speaker's name under {MAX_SPEAKER_LENGTH} characters."
            return _refuse(request, message, 400, field=field, posted=posted)
    prompts = list(GUIDED_PROMPTS) if mode == SubmissionMode.GUIDED else [Prompt.FREE]
    uploads = {prompt: request.FILES.get(upload_field_name(prompt)) for prompt in prompts}
    try:
        submission = create_submission(
            request.user,
            mode=mode,
            uploads=uploads,
            consent=posted["consent"],
            visibility=posted["visibility"] or Visibility.STAFF,
            origin=request.POST.get("origin", ""),
            speaker_names=[posted["speaker_left"], posted["speaker_right"]],
        )
    except ClipRefused as refusal:
        return _refuse(request, refusal.message, refusal.status, field=refusal.field, posted=posted)
    status_url = submission.get_absolute_url()
    if wants_json(request):
        response = JsonResponse(
            {"id": submission.pk, "status_url": status_url, "status_json_url": submission.status_json_url()},
            status=201,
        )
        response["Location"] = status_url
        return response
    return _see_other(status_url)


def _see_other(url: str) -> HttpResponse:
    """303, so the browser follows a form post with a GET of the status page."""
    response = HttpResponse(status=303)
    response["Location"] = url
    return response


def _submission_for(request: HttpRequest, submission_id: int) -> ClipSubmission:
    """The submission, if this person may see it (its submitter or an editor); 404 otherwise."""
    submission = (
        ClipSubmission.objects.visible_to(request.user)
        .select_related("story", "submitter")
        .filter(pk=submission_id)
        .first()
    )
    if submission is None:
        raise Http404("No such submission")
    return submission


def story_links(submission: ClipSubmission, user) -> dict:
    """Where the draft can be opened: the admin for those with access, else the teller's own edit page."""
    story = submission.story
    if story is None:
        return {"story_url": None, "admin_url": None, "story_title": None}
    admin_url = reverse("wagtailadmin_pages:edit", args=[story.pk])
    if story.live:
        story_url = story.get_url()
    elif user.has_perm("wagtailadmin.access_admin"):
        story_url = admin_url
    else:
        story_url = reverse("capture:edit_story", args=[story.pk])
    return {"story_url": story_url, "admin_url": admin_url, "story_title": story.title}


def status_payload(submission: ClipSubmission, user) -> dict:
    """What the status page shows, as JSON: the page polls this until the draft is ready."""
    drafted = submission.state == "drafted"
    return {
        "id": submission.pk,
        "state": submission.state,
        "state_label": submission.get_state_display(),
        "progress": 100 if drafted else int(submission.progress),
        "attempts": submission.attempts,
        **story_links(submission, user),
        "my_stories_url": reverse("capture:my_stories"),
        "transcript": submission.transcript if drafted else "",
        "error": submission.error if submission.state == "failed" else "",
        "can_retry": submission.can_retry,
        "retry_url": reverse("capture:submission_retry", args=[submission.pk]),
    }


@login_required
@never_cache
def submission_status(request: HttpRequest, submission_id: int) -> HttpResponse:
    return _render_status(request, _submission_for(request, submission_id))


def _render_status(
    request: HttpRequest, submission: ClipSubmission, *, notice: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "capture/status.html",
        {
            "submission": submission,
            "parts": submission.parts.select_related("clip"),
            "status": status_payload(submission, request.user),
            "viewer_is_editor": is_editor(request.user),
            "notice": notice,
        },
        status=status,
    )


@login_required
@never_cache
def submission_status_json(request: HttpRequest, submission_id: int) -> JsonResponse:
    submission = _submission_for(request, submission_id)
    return JsonResponse(status_payload(submission, request.user))


@login_required
@require_POST
def submission_retry(request: HttpRequest, submission_id: int) -> HttpResponse:
    """Queue a failed submission again (its submitter or an editor); the clip was kept."""
    submission = _submission_for(request, submission_id)
    if submission.can_retry and queued_clip_limit_reached(submission.submitter):
        if wants_json(request):
            return JsonResponse({"error": queued_clip_limit_message(), "field": None}, status=429)
        return _render_status(request, submission, notice=queued_clip_limit_message(), status=429)
    retried = retry_submission(submission)
    if wants_json(request):
        submission.refresh_from_db()
        return JsonResponse(status_payload(submission, request.user), status=202 if retried else 409)
    return _see_other(submission.get_absolute_url())
