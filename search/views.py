"""The search page, its JSON twin and the autocomplete endpoint. Thin: parse, search, render."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from search.display import api_payload, page_context, suggestion_payload
from search.query import SearchQuery
from search.service import search_stories, suggest

API_MAX_PER_PAGE = 50


@require_GET
def search_page(request: HttpRequest):
    page = search_stories(SearchQuery.from_params(request.GET), request.user)
    return render(request, "search/search.html", page_context(page))


@require_GET
def search_api(request: HttpRequest):
    per_page = request.GET.get("per_page", "")
    per_page = min(int(per_page), API_MAX_PER_PAGE) if per_page.isdigit() and int(per_page) > 0 else 10
    page = search_stories(SearchQuery.from_params(request.GET, per_page=per_page), request.user)
    return JsonResponse(api_payload(page))


@require_GET
def suggest_api(request: HttpRequest):
    text = request.GET.get("q", "")
    suggestions = suggest(text, request.user)
    return JsonResponse({"q": text, "suggestions": [suggestion_payload(entry) for entry in suggestions]})
