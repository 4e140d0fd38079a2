"""Refuse a request whose declared body is larger than its route accepts, before any of it is read.

A size check in a view comes too late: Django's CSRF check reads request.POST (and so the whole
multipart body, onto disk) before the view runs. This middleware sits ahead of it and decides on
the Content-Length header alone: clip uploads may carry MAX_UPLOAD_MB per clip, picture uploads
MAX_IMAGE_MB, admin documents MAX_DOCUMENT_MB, everything else only what Django would parse anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.html import escape

from capture.clip_intake import max_clip_bytes_per_post

MEGABYTE = 1024 * 1024
# Multipart boundaries and part headers around the files and fields.
MULTIPART_OVERHEAD = 64 * 1024
# Form fields allowed when DATA_UPLOAD_MAX_MEMORY_SIZE is switched off (None): Django's default.
DJANGO_DEFAULT_FIELDS_BYTES = 2_621_440


@dataclass(frozen=True)
class BodyBudget:
    """The most a request to a route may send, and how to explain the limit to the person."""

    file_bytes: int
    explanation: str

    @property
    def limit(self) -> int:
        """Files, plus the form fields Django parses in any case (DATA_UPLOAD_MAX_MEMORY_SIZE)."""
        fields = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or DJANGO_DEFAULT_FIELDS_BYTES
        return self.file_bytes + fields + MULTIPART_OVERHEAD


def clip_budget() -> BodyBudget:
    return BodyBudget(max_clip_bytes_per_post(), f"Clips may be at most {settings.MAX_UPLOAD_MB} MB each.")


def picture_budget() -> BodyBudget:
    return BodyBudget(
        settings.MAX_IMAGE_MB * MEGABYTE, f"Pictures may be at most {settings.MAX_IMAGE_MB} MB."
    )


def document_budget() -> BodyBudget:
    return BodyBudget(
        settings.MAX_DOCUMENT_MB * MEGABYTE, f"Documents may be at most {settings.MAX_DOCUMENT_MB} MB."
    )


def default_budget() -> BodyBudget:
    return BodyBudget(0, "This address accepts no files this large.")


# Routes that take files, by URL name, then by URL namespace (Wagtail's image and document admin).
ROUTE_BUDGETS: dict[str, Callable[[], BodyBudget]] = {
    "capture:voice": clip_budget,
    "capture:share": picture_budget,
    "capture:edit_story": picture_budget,
    "wagtailadmin_account": picture_budget,  # the profile picture
}
NAMESPACE_BUDGETS: dict[str, Callable[[], BodyBudget]] = {
    "wagtailimages": picture_budget,
    "wagtailimages_chooser": picture_budget,
    "wagtaildocs": document_budget,
    "wagtaildocs_chooser": document_budget,
    "wagtailredirects": document_budget,  # importing redirects from a spreadsheet
}


def budget_for(path: str) -> BodyBudget:
    """The body budget of the route that `path` resolves to (the default when it resolves to none)."""
    try:
        match = resolve(path)
    except Resolver404:
        return default_budget()
    budget = ROUTE_BUDGETS.get(match.view_name) or NAMESPACE_BUDGETS.get(match.namespace)
    return budget() if budget else default_budget()


def declared_length(request: HttpRequest) -> int | None:
    """The Content-Length as a number; 0 when absent, None when it is not a plain number."""
    value = request.META.get("CONTENT_LENGTH") or ""
    if not value:
        return 0
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        return None
    return int(value)


def refusal(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """JSON for clients that ask for it (the recorder), otherwise a short page."""
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"error": message, "field": None}, status=status)
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Upload refused</title></head>'
        f'<body><main><h1>Upload refused</h1><p role="alert">{escape(message)}</p>'
        "<p>Go back to the page you came from to try again.</p></main></body></html>"
    )
    return HttpResponse(page, status=status, content_type="text/html; charset=utf-8")


class RequestBodyLimitMiddleware:
    """413 for a declared body over its route's budget, 400 for a malformed Content-Length."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = declared_length(request)
        if length is None:
            return refusal(request, 400, "The request's Content-Length header is not a number.")
        # Every budget allows at least the default, so small bodies need no route lookup.
        if length > default_budget().limit:
            budget = budget_for(request.path_info)
            if length > budget.limit:
                return refusal(
                    request,
                    413,
                    f"This upload is {length / MEGABYTE:.1f} MB, too large to accept. "
                    f"{budget.explanation} Nothing was stored: please choose a smaller file.",
                )
        return self.get_response(request)
