"""What the public pages show: home, library, story, theme, outcome and people pages.

Every story, count and ranking here starts from `StoryPage.objects.visible_to(user)`, so a
staff-only story reaches only signed-in readers and a draft reaches nobody, on every surface.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.paginator import Page as PaginatorPage
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, ExtractYear
from django.http import Http404, QueryDict
from django.urls import reverse

from stories.access import person_is_listed
from stories.helpful import has_voted_helpful, helpful_vote_count
from stories.models import (
    HelpfulVote,
    OutcomeType,
    Person,
    StoryIndexPage,
    StoryPage,
    Theme,
    Visibility,
)
from stories.params import MAX_PAGE_NUMBER, QueryParams
from stories.related import related_story_ids
from stories.transcripts import TRANSCRIPT_FORMATS, clock_time, read_start_time

logger = logging.getLogger(__name__)

STORIES_PER_PAGE = 12
PEOPLE_PER_PAGE = 30
MAX_NAME_QUERY_LENGTH = 100
LIBRARY_CRUMB = {"url": "/stories/", "label": "Library"}
TRANSCRIPT_FORMAT_LABELS = {
    "txt": "Plain text (.txt)",
    "vtt": "WebVTT captions (.vtt)",
    "srt": "SubRip subtitles (.srt)",
}


# --- Stories a reader may see -------------------------------------------------------------------


def visible_stories(user) -> QuerySet[StoryPage]:
    """Published stories this reader may see, newest first (the library's order)."""
    return StoryPage.objects.visible_to(user).order_by("-first_published_at", "-pk")


def approved_themes() -> QuerySet[Theme]:
    return Theme.objects.filter(is_approved=True)


def for_story_cards(stories: QuerySet[StoryPage]) -> QuerySet[StoryPage]:
    """Load what a story card shows in a handful of queries rather than one per card.

    A card names its teller and helpers with links to their pages: cards only show stories the
    reader may see, so everyone on one is listed for that reader (`stories.access.person_is_listed`).
    """
    return stories.select_related("teller__photo", "cover_image").prefetch_related(
        Prefetch("themes", queryset=approved_themes().order_by("name")),
        Prefetch("outcome_types", queryset=OutcomeType.objects.order_by("name")),
        Prefetch("people", queryset=Person.objects.select_related("photo").order_by("name")),
    )


def with_story_year(stories: QuerySet[StoryPage]) -> QuerySet[StoryPage]:
    """Annotate `story_year`: the year it happened, or the year it was published when that is unknown."""
    return stories.annotate(
        story_year=Coalesce(ExtractYear("occurred_on"), ExtractYear("first_published_at"))
    )


def stories_involving(person: Person, stories: QuerySet[StoryPage]) -> QuerySet[StoryPage]:
    """Stories this person told or helped in (each story once)."""
    involved = StoryPage.objects.filter(Q(teller=person) | Q(people=person)).values("pk")
    return stories.filter(pk__in=involved)


def paginate(items, request, per_page: int = STORIES_PER_PAGE) -> PaginatorPage:
    """One page of `items` from `?page=`; a page past the last gives the last (lists shrink between visits).

    A malformed page number raises BadParameter (a 400).
    """
    number = QueryParams(request.GET).integer("page", default=1, minimum=1, maximum=MAX_PAGE_NUMBER)
    return Paginator(items, per_page).get_page(number)


def page_links(page_obj: PaginatorPage) -> list:
    """Page numbers to link, with "…" for the gaps (1 … 4 5 [6] 7 8 … 20)."""
    return list(page_obj.paginator.get_elided_page_range(page_obj.number, on_each_side=2, on_ends=1))


# --- Filters: ?theme=&person=&outcome=&year= -----------------------------------------------------


@dataclass
class StoryFilters:
    """The library's filters, read from the query string; unknown values are reported, not ignored."""

    theme: Theme | None = None
    person: Person | None = None
    outcome: OutcomeType | None = None
    year: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def is_active(self) -> bool:
        return any([self.theme, self.person, self.outcome, self.year]) or bool(self.problems)

    @property
    def matches_nothing(self) -> bool:
        return bool(self.problems)


def read_story_filters(params: QueryDict, user) -> StoryFilters:
    """Malformed values raise BadParameter (a 400); well-formed ones that name nothing are reported."""
    reader = QueryParams(params)
    filters = StoryFilters()
    theme_slug = reader.text("theme")
    if theme_slug:
        filters.theme = approved_themes().filter(slug=theme_slug).first()
        if filters.theme is None:
            filters.problems.append(f"There is no theme “{theme_slug}”.")
    person_slug = reader.text("person")
    if person_slug:
        filters.person = Person.objects.filter(slug=person_slug).first()
        if filters.person is None or not person_is_listed(filters.person, user):
            filters.person = None
            filters.problems.append(f"There is no person “{person_slug}”.")
    outcome_slug = reader.text("outcome")
    if outcome_slug:
        filters.outcome = OutcomeType.objects.filter(slug=outcome_slug).first()
        if filters.outcome is None:
            filters.problems.append(f"There is no outcome type “{outcome_slug}”.")
    year = reader.integer("year", maximum=9999)
    if year is not None:
        if 1900 <= year <= 2999:
            filters.year = year
        else:
            filters.problems.append(f"“{year}” is not a year.")
    return filters


def apply_story_filters(
    stories: QuerySet[StoryPage], filters: StoryFilters, *, leave_out: str = ""
) -> QuerySet[StoryPage]:
    """Narrow `stories` by every active filter except `leave_out` (used for that filter's own counts)."""
    if filters.matches_nothing:
        return stories.none()
    if filters.theme and leave_out != "theme":
        stories = stories.filter(themes=filters.theme)
    if filters.person and leave_out != "person":
        stories = stories_involving(filters.person, stories)
    if filters.outcome and leave_out != "outcome":
        stories = stories.filter(outcome_types=filters.outcome)
    if filters.year and leave_out != "year":
        stories = with_story_year(stories).filter(story_year=filters.year)
    return stories


def theme_story_counts(stories: QuerySet[StoryPage]) -> QuerySet[Theme]:
    """Approved themes used by `stories`, each with `story_count`, most used first."""
    return (
        approved_themes()
        .filter(stories__in=stories.values("pk"))
        .annotate(story_count=Count("stories", distinct=True))
        .order_by("-story_count", "name")
    )


def outcome_story_counts(stories: QuerySet[StoryPage]) -> QuerySet[OutcomeType]:
    return (
        OutcomeType.objects.filter(stories__in=stories.values("pk"))
        .annotate(story_count=Count("stories", distinct=True))
        .order_by("-story_count", "name")
    )


def year_story_counts(stories: QuerySet[StoryPage]) -> list[tuple[int, int]]:
    rows = (
        with_story_year(stories.order_by())
        .values("story_year")
        .annotate(story_count=Count("pk"))
        .order_by("-story_year")
    )
    return [(row["story_year"], row["story_count"]) for row in rows if row["story_year"]]


@dataclass
class PersonStoryCount:
    person: Person
    told: int
    helped: int

    @property
    def total(self) -> int:
        return self.told + self.helped


def people_ranked_by_stories(stories: QuerySet[StoryPage]) -> list[PersonStoryCount]:
    """Everyone who told or helped in `stories`, most stories first; a story counts once per person."""
    told: dict[int, set[int]] = defaultdict(set)
    helped: dict[int, set[int]] = defaultdict(set)
    for story_id, teller_id in stories.filter(teller__isnull=False).values_list("pk", "teller_id"):
        told[teller_id].add(story_id)
    helper_rows = StoryPage.people.through.objects.filter(storypage__in=stories.values("pk"))
    for story_id, person_id in helper_rows.values_list("storypage_id", "person_id"):
        helped[person_id].add(story_id)
    people = Person.objects.in_bulk(set(told) | set(helped))
    ranking = [
        PersonStoryCount(
            person=person,
            told=len(told[person_id]),
            helped=len(helped[person_id] - told[person_id]),
        )
        for person_id, person in people.items()
    ]
    ranking.sort(key=lambda row: (-row.total, row.person.name.lower()))
    return ranking


# --- Page contexts ------------------------------------------------------------------------------


def home_context(request) -> dict:
    stories = visible_stories(request.user)
    featured = list(for_story_cards(stories.filter(featured=True))[:3])
    recent = list(for_story_cards(stories.exclude(pk__in=[story.pk for story in featured]))[:6])
    most_helpful = list(
        stories.annotate(vote_count=Count("helpful_votes"))
        .filter(vote_count__gt=0)
        .select_related("teller")
        .order_by("-vote_count", "-first_published_at")[:5]
    )
    return {
        "featured_stories": featured,
        "recent_stories": recent,
        "most_helpful_stories": most_helpful,
        "themes": list(theme_story_counts(stories)[:16]),
        "outcome_types": list(outcome_story_counts(stories)[:8]),
        "story_total": stories.count(),
        "people_total": len(people_ranked_by_stories(stories)),
    }


def library_context(request, library) -> dict:
    user = request.user
    stories = visible_stories(user)
    filters = read_story_filters(request.GET, user)
    matching = apply_story_filters(stories, filters)
    page_obj = paginate(for_story_cards(matching), request)

    theme_options = list(theme_story_counts(apply_story_filters(stories, filters, leave_out="theme")))
    outcome_options = list(outcome_story_counts(apply_story_filters(stories, filters, leave_out="outcome")))
    year_options = year_story_counts(apply_story_filters(stories, filters, leave_out="year"))
    person_options = sorted(
        people_ranked_by_stories(apply_story_filters(stories, filters, leave_out="person")),
        key=lambda row: row.person.name.lower(),
    )
    keep_selected_options(filters, theme_options, outcome_options, year_options, person_options)
    return {
        "stories": page_obj.object_list,
        "page_obj": page_obj,
        "page_links": page_links(page_obj),
        "result_count": page_obj.paginator.count,
        "filters": filters,
        "active_filters": active_filter_chips(request.GET, filters),
        "theme_options": theme_options,
        "outcome_options": outcome_options,
        "year_options": year_options,
        "person_options": person_options,
        "library_total": stories.count(),
    }


def keep_selected_options(
    filters: StoryFilters, themes: list, outcomes: list, years: list, people: list
) -> None:
    """A chosen filter stays in its menu (with a count of 0) even when the other filters exclude it."""
    if filters.theme and filters.theme.pk not in {theme.pk for theme in themes}:
        filters.theme.story_count = 0
        themes.append(filters.theme)
    if filters.outcome and filters.outcome.pk not in {outcome.pk for outcome in outcomes}:
        filters.outcome.story_count = 0
        outcomes.append(filters.outcome)
    if filters.year and filters.year not in {year for year, _count in years}:
        years.append((filters.year, 0))
        years.sort(reverse=True)
    if filters.person and filters.person.pk not in {row.person.pk for row in people}:
        people.append(PersonStoryCount(person=filters.person, told=0, helped=0))
        people.sort(key=lambda row: row.person.name.lower())


def active_filter_chips(params: QueryDict, filters: StoryFilters) -> list[dict]:
    """One removable chip per active filter: its label and the library URL without it."""
    chips = []
    labels = {
        "theme": filters.theme and f"Theme: {filters.theme.name}",
        "person": filters.person and f"Person: {filters.person.name}",
        "outcome": filters.outcome and f"Outcome: {filters.outcome.name}",
        "year": filters.year and f"Year: {filters.year}",
    }
    for key, label in labels.items():
        if not label:
            continue
        remaining = params.copy()
        remaining.pop(key, None)
        remaining.pop("page", None)
        query = remaining.urlencode()
        chips.append({"label": label, "remove_url": "?" + query if query else "?"})
    return chips


def library_position(story: StoryPage) -> tuple:
    """Where a story sits in the library's order (newest first: a larger position comes earlier)."""
    return (story.first_published_at, story.pk)


def neighbour_queries(story: StoryPage, stories: QuerySet[StoryPage]) -> list[QuerySet]:
    """Subqueries for the id of the story just newer and the one just older than `story` among `stories`."""
    if story.first_published_at is None:
        return []
    when, others = story.first_published_at, stories.exclude(pk=story.pk)
    newer = others.filter(Q(first_published_at__gt=when) | Q(first_published_at=when, pk__gt=story.pk))
    older = others.filter(Q(first_published_at__lt=when) | Q(first_published_at=when, pk__lt=story.pk))
    return [
        newer.order_by("first_published_at", "pk").values("pk")[:1],
        older.order_by("-first_published_at", "-pk").values("pk")[:1],
    ]


def nearest_neighbours(story: StoryPage, candidates) -> tuple[StoryPage | None, StoryPage | None]:
    """(previous, next) in the library's newest-first order: the nearest newer and older of `candidates`.

    `candidates` must hold the true neighbours among the stories the reader may see (they are the
    nearest of all of those, so of any subset holding them too).
    """
    if story.first_published_at is None:
        return None, None
    here = library_position(story)
    placed = [candidate for candidate in candidates if candidate.first_published_at is not None]
    newer = [candidate for candidate in placed if library_position(candidate) > here]
    older = [candidate for candidate in placed if library_position(candidate) < here]
    return min(newer, key=library_position, default=None), max(older, key=library_position, default=None)


def with_helpful_votes(stories: QuerySet[StoryPage]) -> QuerySet[StoryPage]:
    """Annotate `helpful_votes_cast`, counted from the votes themselves (the truth `helpful_count` caches)."""
    votes = (
        HelpfulVote.objects.filter(story=OuterRef("pk"))
        .order_by()
        .values("story")
        .annotate(cast=Count("pk"))
        .values("cast")
    )
    return stories.annotate(helpful_votes_cast=Coalesce(Subquery(votes), 0))


def safe_related_story_ids(story: StoryPage, user, limit: int) -> list[int]:
    """Ids of the stories like `story` (ranked by search when it is installed), or none when ranking fails."""
    try:
        return related_story_ids(story, user, limit=limit)
    except Exception:  # a search outage must not take the story page down with it
        logger.exception("Related stories unavailable for story %s", story.pk)
        return []


@dataclass
class StoryPageStories:
    """The stories a story page shows, loaded as cards together: the story, its neighbours, related ones."""

    story: StoryPage
    previous_story: StoryPage | None
    next_story: StoryPage | None
    related_stories: list[StoryPage]
    helpful_count: int


def story_page_stories(request, story: StoryPage, related_limit: int = 3) -> StoryPageStories:
    """Every story a story page shows, in one query per relation a card shows (plus the related ranking).

    The visibility rule is applied once, to that one load: a related or neighbouring story the
    reader may not see is never loaded. A preview shows the page as edited, not as stored.
    """
    user = request.user
    if story.pk is None:  # a story previewed before its first save
        return StoryPageStories(story, None, None, [], 0)
    related_ids = safe_related_story_ids(story, user, related_limit)
    wanted = Q(pk=story.pk) | Q(pk__in=related_ids)
    visible = StoryPage.objects.visible_to(user)
    for neighbour in neighbour_queries(story, visible):
        wanted |= Q(pk__in=neighbour)
    loaded = with_helpful_votes(for_story_cards(visible.filter(wanted)).select_related("clip__poster"))
    by_pk = {loaded_story.pk: loaded_story for loaded_story in loaded}
    shown = by_pk.get(story.pk)
    if shown is None or getattr(request, "is_preview", False):
        shown = story
    previous_story, next_story = nearest_neighbours(story, by_pk.values())
    related = [by_pk[pk] for pk in dict.fromkeys(related_ids) if pk in by_pk and pk != story.pk]
    helpful_count = shown.helpful_votes_cast if shown is not story else helpful_vote_count(story)
    return StoryPageStories(shown, previous_story, next_story, related[:related_limit], helpful_count)


def transcript_download_links(story: StoryPage) -> list[dict]:
    return [
        {
            "format": transcript_format,
            "label": TRANSCRIPT_FORMAT_LABELS[transcript_format],
            "url": reverse("stories:transcript", args=[story.pk, transcript_format]),
            "filename": f"{story.slug}.{transcript_format}",
        }
        for transcript_format in TRANSCRIPT_FORMATS
    ]


def story_context(request, story: StoryPage) -> dict:
    user = request.user
    segments = list(story.transcript_segments.all())
    start_time = read_start_time(request.GET)
    page_stories = story_page_stories(request, story)
    shown = page_stories.story
    clip = shown.clip
    if start_time is not None and clip and clip.duration:
        start_time = min(start_time, clip.duration)
    try:
        library = StoryIndexPage.get_library()
    except StoryIndexPage.DoesNotExist:  # a story previewed before its first save may have no library yet
        library = None
    saved = story.pk is not None
    teller = shown.teller
    return {
        "library_crumbs": [{"url": library.url, "label": library.title}] if library else [],
        "teller": teller,
        "helpers": [person for person in shown.people.all() if person != teller],
        "story_themes": [theme for theme in shown.themes.all() if theme.is_approved],
        "story_outcome_types": list(shown.outcome_types.all()),
        "cover_image": shown.cover_image,
        "is_staff_only": story.visibility == Visibility.STAFF,
        "clip": clip,
        "transcript_segments": [
            {
                "start": segment.start,
                "end": segment.end,
                "text": segment.text,
                "clock": clock_time(segment.start),
            }
            for segment in segments
        ],
        "transcript_downloads": transcript_download_links(story) if segments and saved else [],
        "captions_url": (
            reverse("stories:transcript", args=[story.pk, "vtt"]) + "?inline=1" if segments and saved else ""
        ),
        "start_time": start_time,
        "start_clock": clock_time(start_time) if start_time is not None else "",
        "helpful_count": page_stories.helpful_count,
        "helpful_voted": has_voted_helpful(story, user) if saved else False,
        "helpful_url": reverse("stories:helpful", args=[story.pk]) if saved else "",
        "previous_story": page_stories.previous_story,
        "next_story": page_stories.next_story,
        "related_stories": page_stories.related_stories,
    }


def story_page(stories, request) -> dict:
    """One page of story cards and what the template needs to page through the rest."""
    page_obj = paginate(for_story_cards(stories), request)
    return {
        "stories": page_obj.object_list,
        "page_obj": page_obj,
        "page_links": page_links(page_obj),
        "story_count": page_obj.paginator.count,
    }


def theme_context(request, slug: str) -> dict:
    theme = approved_themes().filter(slug=slug).first()
    if theme is None:
        raise Http404("No such theme")
    stories = visible_stories(request.user).filter(themes=theme)
    return {
        "theme": theme,
        "theme_crumbs": [LIBRARY_CRUMB],
        **story_page(stories, request),
        "experts": people_ranked_by_stories(stories)[:6],
        "outcome_types": list(outcome_story_counts(stories)),
    }


def outcome_context(request, slug: str) -> dict:
    outcome_type = OutcomeType.objects.filter(slug=slug).first()
    if outcome_type is None:
        raise Http404("No such outcome type")
    stories = visible_stories(request.user).filter(outcome_types=outcome_type)
    return {
        "outcome_type": outcome_type,
        "outcome_crumbs": [LIBRARY_CRUMB],
        **story_page(stories, request),
        "themes": list(theme_story_counts(stories)[:12]),
    }


def people_directory_context(request) -> dict:
    """Everyone with a story this reader can see; with ?theme=, ranked by stories on that theme."""
    stories = visible_stories(request.user)
    reader = QueryParams(request.GET)
    theme_slug = reader.text("theme")
    theme = approved_themes().filter(slug=theme_slug).first() if theme_slug else None
    name_query = reader.text("q", max_length=MAX_NAME_QUERY_LENGTH)
    if theme is not None:
        ranking = people_ranked_by_stories(stories.filter(themes=theme))
    elif theme_slug:
        ranking = []
    else:
        ranking = sorted(people_ranked_by_stories(stories), key=lambda row: row.person.name.lower())
    if name_query:
        needle = name_query.lower()
        ranking = [
            row
            for row in ranking
            if needle in f"{row.person.name} {row.person.team} {row.person.role}".lower()
        ]
    page_obj = paginate(ranking, request, per_page=PEOPLE_PER_PAGE)
    return {
        "theme": theme,
        "unknown_theme": theme_slug if theme_slug and theme is None else "",
        "name_query": name_query,
        "people": page_obj.object_list,
        "page_obj": page_obj,
        "page_links": page_links(page_obj),
        "people_count": page_obj.paginator.count,
        "theme_options": list(theme_story_counts(stories)),
    }


def person_context(request, slug: str) -> dict:
    person = Person.objects.filter(slug=slug).select_related("photo").first()
    if person is None or not person_is_listed(person, request.user):
        raise Http404("No such person")
    stories = visible_stories(request.user)
    told = for_story_cards(stories.filter(teller=person))
    helped = for_story_cards(stories.filter(people=person).exclude(teller=person))
    involved = stories_involving(person, stories)
    return {
        "person": person,
        "person_crumbs": [{"url": "/people/", "label": "People"}],
        "stories_told": list(told),
        "stories_helped": list(helped),
        "strengths": list(person.strengths.order_by("name")),
        "known_for_themes": list(theme_story_counts(involved)[:6]),
        "outcome_types": list(outcome_story_counts(involved)[:6]),
        "story_total": involved.count(),
    }
