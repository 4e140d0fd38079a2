"""The search page, its JSON twin and the autocomplete endpoint. Thin: parse, search, render.

The page and the JSON both say who knows about the question (search.people).

Malformed parameters raise stories.params.BadParameter, which the middleware answers with a 400.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from search.boosts import boosted
from search.display import api_payload, page_context, suggestion_payload
from search.people import people_payload, search_with_people
from search.query import DEFAULT_PER_PAGE, MAX_QUERY_LENGTH, SearchQuery
from search.service import suggest
from stories.params import QueryParams

API_MAX_PER_PAGE = 50


@require_GET
def search_page(request: HttpRequest):
    page, people = search_with_people(SearchQuery.from_params(request.GET), request.user)
    context = page_context(boosted(page, request.user))
    context["people_who_know"] = people
    return render(request, "search/search.html", context)


@require_GET
def search_api(request: HttpRequest):
    per_page = QueryParams(request.GET).integer(
        "per_page", default=DEFAULT_PER_PAGE, minimum=1, maximum=API_MAX_PER_PAGE
    )
    page, people = search_with_people(SearchQuery.from_params(request.GET, per_page=per_page), request.user)
    return JsonResponse({**api_payload(boosted(page, request.user)), "people": people_payload(people)})


@require_GET
def suggest_api(request: HttpRequest):
    text = QueryParams(request.GET).text("q", max_length=MAX_QUERY_LENGTH)
    suggestions = suggest(text, request.user)
    return JsonResponse({"q": text, "suggestions": [suggestion_payload(entry) for entry in suggestions]})
