"""Bad query parameters answer 400 with the reason, never 500: JSON for APIs, a small page otherwise.

Our own views read their parameters through stories.params and raise BadParameter. The views we do
not own (Wagtail's admin and API, Django's auth) get guards here instead, each for a 500 that the
hostile-request sweep (tests/security/test_hostile_requests.py) found in them.
"""

from __future__ import annotations

import logging
import sqlite3
import traceback

from django.core.exceptions import TooManyFieldsSent
from django.core.paginator import InvalidPage
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch
from django.utils.datastructures import MultiValueDictKeyError

from stories.params import MAX_TEXT_LENGTH, BadParameter, QueryParams, refuse_control_characters

JSON_PATH_PREFIXES = ("/api/", "/admin/api/")
# Wagtail's API v2: ours at /api/v2/, the admin's own at /admin/api/.
WAGTAIL_API_PREFIXES = ("/api/v2/", "/admin/api/")
WAGTAIL_API_NUMBERS = ("limit", "offset", "id", "ancestor_of", "descendant_of", "translation_of")
WAGTAIL_API_MAX_VALUE_LENGTH = 1000
# Ids that the admin's listings and choosers look up (?id= may also be "all" for bulk actions).
ADMIN_IDS = ("id", "owner", "content_type", "collection_id")
MAX_ADMIN_IDS = 500
MAX_DATABASE_INTEGER = 2**31 - 1
SEARCH_PARAMETERS = ("q", "search")
INSTALLED_PACKAGES = ("site-packages", "dist-packages")

logger = logging.getLogger(__name__)


def wants_json(request: HttpRequest) -> bool:
    """API paths, and clients that ask for JSON rather than a page."""
    accept = request.headers.get("Accept", "")
    return request.path.startswith(JSON_PATH_PREFIXES) or (
        "application/json" in accept and "html" not in accept
    )


def bad_request(request: HttpRequest, reason: str) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"error": reason}, status=400)
    return render(request, "400.html", {"reason": reason}, status=400)


def refuse_malformed_api_parameters(params) -> None:
    """Wagtail's API hands offsets and page ids to the database as given (one past 64 bits is a 500
    there) and reads "١٢" as 12: read them strictly, and every parameter once, first."""
    reader = QueryParams(params)
    for name in params:
        reader.single(name, max_length=WAGTAIL_API_MAX_VALUE_LENGTH)
    for name in WAGTAIL_API_NUMBERS:
        reader.integer(name, maximum=MAX_DATABASE_INTEGER)
    if reader.text("child_of") != "root":
        reader.integer("child_of", maximum=MAX_DATABASE_INTEGER)
    reader.text("search", max_length=MAX_TEXT_LENGTH)


def refuse_malformed_admin_parameters(params) -> None:
    """The admin's page numbers go to `int()` and its filter ids to the database unchecked."""
    reader = QueryParams(params)
    reader.integer("p", maximum=MAX_DATABASE_INTEGER)
    for name in ADMIN_IDS:
        values = [value for value in reader.texts(name, max_count=MAX_ADMIN_IDS) if value != "all"]
        QueryParams({name: values}).integers(name, max_count=MAX_ADMIN_IDS, maximum=MAX_DATABASE_INTEGER)


def huge_number_parameter(params) -> str:
    for name in params:
        if any(value.isdigit() and len(value) > 18 for value in params.getlist(name)):
            return name
    return ""


def is_incomplete_admin_form(request: HttpRequest, exception: Exception) -> bool:
    """A POST to the admin that some Wagtail view could not read, short of a field it takes for granted.

    Sent from their own pages, Wagtail's forms always carry their management fields and earlier
    steps; sent bare or altered, a few views index into what is missing (KeyError) or use a form
    that was never built (AttributeError). The error must arise inside an installed package, so a
    bug in this project's own admin code still fails loudly.
    """
    if request.method != "POST" or not request.path.startswith("/admin/"):
        return False
    if not isinstance(exception, KeyError | AttributeError) or exception.__traceback__ is None:
        return False
    innermost = traceback.extract_tb(exception.__traceback__)[-1].filename
    return any(folder in innermost for folder in INSTALLED_PACKAGES)


def is_unusable_next(request: HttpRequest, exception: Exception) -> bool:
    """Wagtail's `redirect(next)` takes a `next` that is neither a path nor an address ("²") for a
    view name, and fails to reverse it."""
    next_url = request.POST.get("next") or request.GET.get("next")
    return (
        isinstance(exception, NoReverseMatch)
        and bool(next_url)
        and f"Reverse for '{next_url}'" in str(exception)
    )


def search_syntax_parameter(request: HttpRequest, exception: Exception) -> str:
    """The search parameter SQLite's full-text index refused, if that is what failed.

    Wagtail's database search backend passes double quotes on to FTS5 as written, so a stray one
    (`a"b`, `"a:b"`) is a syntax error there; balanced quotes still search for a phrase.
    """
    if not isinstance(exception, OperationalError) or not isinstance(exception.__cause__, sqlite3.Error):
        return ""
    return next((name for name in SEARCH_PARAMETERS if '"' in request.GET.get(name, "")), "")


class BadParameterMiddleware:
    """Answer malformed parameters with a 400 that names the parameter and the problem.

    Before any view runs: control characters (NUL above all) anywhere in the query string, too many
    parameters, and Wagtail's API and admin numbers read strictly. After a view fails:
    `BadParameter` from our views, and the failures of Wagtail's views that only bad input causes
    (a page of results past the last, a number SQLite cannot bind, search words FTS5 cannot parse,
    a `next` that is no path, a form missing a field). A bare 400 from a view gets a reason.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            refuse_control_characters(request.GET)
            if request.path.startswith(WAGTAIL_API_PREFIXES):
                refuse_malformed_api_parameters(request.GET)
            elif request.path.startswith("/admin/"):
                refuse_malformed_admin_parameters(request.GET)
        except BadParameter as error:
            return bad_request(request, error.reason)
        except TooManyFieldsSent:
            return bad_request(request, "The address has too many parameters.")
        response = self.get_response(request)
        if response.status_code == 400 and not response.streaming and not response.content.strip():
            # Some Wagtail views refuse with a bare HttpResponseBadRequest(); say something.
            return bad_request(
                request, "This request was incomplete or altered; open the page again and retry."
            )
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, BadParameter):
            return bad_request(request, exception.reason)
        if isinstance(exception, InvalidPage):  # Wagtail's workflow editor pages with Paginator.page()
            raise Http404("There is no such page of results.") from exception
        reason = self.reason_for_failure(request, exception)
        if reason:
            # Logged with its traceback, so that a 400 hiding a real fault can still be traced.
            logger.warning("Answered 400 to %s: %s", request.path, reason, exc_info=exception)
            return bad_request(request, reason)
        return None

    def reason_for_failure(self, request: HttpRequest, exception: Exception) -> str:
        """Why a view's failure was the request's fault, or "" when it was not."""
        if isinstance(exception, OverflowError) and "SQLite INTEGER" in str(exception):
            name = huge_number_parameter(request.GET)
            subject = f"The “{name}” parameter" if name else "A number in the request"
            return f"{subject} is too large to look up."
        if isinstance(exception, MultiValueDictKeyError):
            return f"The form or address is missing the field {exception}."
        if is_unusable_next(request, exception):
            return "The “next” parameter must be a path on this site, such as /admin/."
        if is_incomplete_admin_form(request, exception):
            return "This form was sent incomplete or altered; open it again from the admin."
        if name := search_syntax_parameter(request, exception):
            return f"The “{name}” parameter has a stray double quote; balance it or leave it out."
        return ""
