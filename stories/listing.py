"""What the public pages show: home, library, story, theme, outcome and people pages.

The home, library, theme, outcome and person pages list their stories through the registered
`StoryBrowser` (the search app's: one set of filters, counts and pages with /search/); the
database path here answers while the index is unavailable. Every story, count and ranking read
here starts from `StoryPage.objects.visible_to(user)`, so a staff-only story reaches only
signed-in readers and a draft reaches nobody, on every surface.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from django.core.exceptions import ImproperlyConfigured
from django.core.paginator import Page as PaginatorPage
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, ExtractYear
from django.http import Http404
from django.urls import reverse

from stories.access import person_is_listed
from stories.helpful import has_voted_helpful, helpful_vote_count
from stories.languages import with_story_language
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


# What a story card shows of the story itself (`stories/includes/story_card.html`); its teller,
# cover and lists come whole through `for_story_cards`.
STORY_CARD_FIELDS = (
    "title",
    "url_path",
    "aha",
    "context",
    "visibility",
    "occurred_on",
    "first_published_at",
    "teller",
    "cover_image",
)


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


# --- Browsing: the listing pages find their stories through the registered browser --------------


@dataclass(frozen=True)
class StoryBrowser:
    """What the home, library, theme, outcome and person pages show of their stories, by page.

    These pages list stories through the search service, so they share /search/'s filter rules,
    counts and pages. `stories` must not import `search`: the search app registers its browser
    here when it starts, and uses `stories_from_database` below while its index is unavailable.
    Each builder takes the request (and the page's library, theme, outcome type or person).
    """

    home: Callable[..., dict]
    library: Callable[..., dict]
    theme: Callable[..., dict]
    outcome: Callable[..., dict]
    person: Callable[..., dict]


_browser: StoryBrowser | None = None


def provide_story_browser(browser: StoryBrowser | None) -> None:
    global _browser
    _browser = browser


def story_browser() -> StoryBrowser:
    if _browser is None:
        raise ImproperlyConfigured(
            "No story browser is registered: the search app registers one when it starts."
        )
    return _browser


# --- The database fallback: what the index would answer, read from the tables -------------------


class ChosenFilters(Protocol):
    """Filters by slug (and year): any value within one group, every group. A search query is one."""

    themes: tuple[str, ...]
    people: tuple[str, ...]
    outcomes: tuple[str, ...]
    years: tuple[int, ...]
    languages: tuple[str, ...]
    sources: tuple[str, ...]


DATABASE_ORDER = {
    "newest": ("-first_published_at", "-pk"),
    "helpful": ("-helpful_count", "-first_published_at", "-pk"),
}


def chosen_stories(
    stories: QuerySet[StoryPage], chosen: ChosenFilters, *, leave_out: str = ""
) -> QuerySet[StoryPage]:
    """Narrow `stories` by every chosen group except `leave_out` (used for that group's own counts).

    A slug that names nothing matches nothing, so it narrows its group as the index does.
    """
    if chosen.themes and leave_out != "theme":
        tagged = StoryPage.themes.through.objects.filter(
            theme__in=approved_themes().filter(slug__in=chosen.themes)
        )
        stories = stories.filter(pk__in=tagged.values("storypage_id"))
    if chosen.people and leave_out != "person":
        people = Person.objects.filter(slug__in=chosen.people)
        helped = StoryPage.people.through.objects.filter(person__in=people).values("storypage_id")
        stories = stories.filter(Q(teller__in=people) | Q(pk__in=helped))
    if chosen.outcomes and leave_out != "outcome":
        tagged = StoryPage.outcome_types.through.objects.filter(outcometype__slug__in=chosen.outcomes)
        stories = stories.filter(pk__in=tagged.values("storypage_id"))
    if chosen.years and leave_out != "year":
        stories = with_story_year(stories).filter(story_year__in=chosen.years)
    if chosen.languages and leave_out != "language":
        stories = with_story_language(stories).filter(story_language__in=chosen.languages)
    if chosen.sources and leave_out != "source":
        stories = stories.filter(source__in=chosen.sources)
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


def language_story_counts(stories: QuerySet[StoryPage]) -> list[tuple[str, int]]:
    rows = (
        with_story_language(stories.order_by())
        .values("story_language")
        .annotate(story_count=Count("pk"))
        .order_by("-story_count", "story_language")
    )
    return [(row["story_language"], row["story_count"]) for row in rows]


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


def facet_counts(stories: QuerySet[StoryPage], chosen: ChosenFilters) -> dict[str, list[tuple[str, int]]]:
    """(value, stories) for every theme, person, outcome, year and language, each counted with the other groups."""

    def narrowed(group: str) -> QuerySet[StoryPage]:
        return chosen_stories(stories, chosen, leave_out=group)

    return {
        "theme": [(theme.slug, theme.story_count) for theme in theme_story_counts(narrowed("theme"))],
        "person": [(row.person.slug, row.total) for row in people_ranked_by_stories(narrowed("person"))],
        "outcome": [
            (outcome.slug, outcome.story_count) for outcome in outcome_story_counts(narrowed("outcome"))
        ],
        "year": [(str(year), count) for year, count in year_story_counts(narrowed("year"))],
        "language": language_story_counts(narrowed("language")),
    }


@dataclass
class DatabaseResults:
    """One page of stories, the total and the facet counts, as the database holds them now."""

    total: int
    page_number: int
    stories: list[StoryPage]
    facet_counts: dict[str, list[tuple[str, int]]]


def stories_from_database(
    chosen: ChosenFilters, user, *, sort: str = "newest", page: int = 1, per_page: int = STORIES_PER_PAGE
) -> DatabaseResults:
    """What the search index answers for `chosen` with no words, read from the database instead.

    The fallback while the index is unavailable: the same visibility rule, filters, orders and
    counts. A page past the last gives the last.
    """
    stories = visible_stories(user)
    matching = chosen_stories(stories, chosen).order_by(*DATABASE_ORDER[sort])
    page_obj = Paginator(for_story_cards(matching), per_page).get_page(page)
    return DatabaseResults(
        total=page_obj.paginator.count,
        page_number=page_obj.number,
        stories=list(page_obj.object_list),
        facet_counts=facet_counts(stories, chosen),
    )


def counted_page(items: list, number: int, total: int, per_page: int) -> PaginatorPage:
    """Page `number` of a list `total` long whose `items` on that page were fetched elsewhere.

    The index hands back one page and a total; wrapping them in Django's Page lets every list
    page through with the same links (`page_links`, stories/includes/pagination.html).
    """
    return PaginatorPage(items, number, Paginator(range(total), per_page))


# --- Page contexts ------------------------------------------------------------------------------
# Each page decides what it is about (a 404 for a theme or person this reader may not know of);
# the registered browser finds its stories.


def home_context(request) -> dict:
    return story_browser().home(request)


def library_context(request, library) -> dict:
    return story_browser().library(request, library)


def featured_story_ids(user, limit: int = 3) -> list[int]:
    """The newest stories editors chose to feature (a choice the search index does not hold)."""
    return list(visible_stories(user).filter(featured=True).values_list("pk", flat=True)[:limit])


def people_with_stories_count(user) -> int:
    """How many people told or helped in a story this reader may see."""
    stories = visible_stories(user).order_by().values("pk")
    tellers = StoryPage.objects.filter(pk__in=stories).values("teller_id")
    helpers = StoryPage.people.through.objects.filter(storypage_id__in=stories).values("person_id")
    return Person.objects.filter(Q(pk__in=tellers) | Q(pk__in=helpers)).count()


def story_neighbours(
    story: StoryPage, visible: QuerySet[StoryPage]
) -> tuple[StoryPage | None, StoryPage | None]:
    """(previous, next) in the library's newest-first order: the nearest newer and older of `visible`.

    Two small queries on the reader's visible stories, each the first row of an ordered range,
    loading only what the pager links show (a title and a URL).
    """
    when = story.first_published_at
    if when is None:
        return None, None
    pager = visible.only("title", "url_path")
    newer = pager.filter(Q(first_published_at__gt=when) | Q(first_published_at=when, pk__gt=story.pk))
    older = pager.filter(Q(first_published_at__lt=when) | Q(first_published_at=when, pk__lt=story.pk))
    return (
        newer.order_by("first_published_at", "pk").first(),
        older.order_by("-first_published_at", "-pk").first(),
    )


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
    """The stories a story page shows: the story and its related ones loaded as cards together, its neighbours.

    `readable`: whether the reader may read the story itself (it came back through the visibility rule).
    """

    story: StoryPage
    previous_story: StoryPage | None
    next_story: StoryPage | None
    related_stories: list[StoryPage]
    helpful_count: int
    readable: bool


def story_page_stories(request, story: StoryPage, related_limit: int = 3) -> StoryPageStories:
    """Every story a story page shows: the story and its related ones loaded as cards together, the neighbours.

    The visibility rule is built once and narrowed for each load: a related or neighbouring story
    the reader may not see is never loaded. A preview shows the page as edited, not as stored.
    """
    user = request.user
    if story.pk is None:  # a story previewed before its first save
        return StoryPageStories(story, None, None, [], 0, readable=True)
    visible = StoryPage.objects.visible_to(user)
    related_ids = safe_related_story_ids(story, user, related_limit)
    wanted = visible.filter(pk__in=[story.pk, *related_ids]).order_by()  # order is the ranking's
    cards = for_story_cards(wanted).select_related("clip__poster").only(*STORY_CARD_FIELDS, "clip")
    by_pk = {loaded_story.pk: loaded_story for loaded_story in with_helpful_votes(cards)}
    shown = by_pk.get(story.pk)
    readable = shown is not None
    if shown is None or getattr(request, "is_preview", False):
        shown = story
    previous_story, next_story = story_neighbours(story, visible)
    related = [by_pk[pk] for pk in dict.fromkeys(related_ids) if pk in by_pk and pk != story.pk]
    helpful_count = shown.helpful_votes_cast if shown is not story else helpful_vote_count(story)
    return StoryPageStories(
        shown, previous_story, next_story, related[:related_limit], helpful_count, readable=readable
    )


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


def story_library(story: StoryPage):
    """The library a story is filed under: its parent, which routing to the story has already read."""
    if story.path:
        return story.get_parent()
    try:
        return StoryIndexPage.get_library()
    except StoryIndexPage.DoesNotExist:  # a story previewed before its first save may have no library yet
        return None


def story_context(request, story: StoryPage) -> dict:
    user = request.user
    segments = list(story.transcript_segments.all())
    start_time = read_start_time(request.GET)
    page_stories = story_page_stories(request, story)
    shown = page_stories.story
    clip = shown.clip
    if start_time is not None and clip and clip.duration:
        start_time = min(start_time, clip.duration)
    library = story_library(story)
    saved = story.pk is not None
    teller = shown.teller
    return {
        "readable": page_stories.readable,
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
                "speaker": segment.speaker,
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


def theme_context(request, slug: str) -> dict:
    theme = approved_themes().filter(slug=slug).first()
    if theme is None:
        raise Http404("No such theme")
    return {"theme": theme, "theme_crumbs": [LIBRARY_CRUMB], **story_browser().theme(request, theme)}


def outcome_context(request, slug: str) -> dict:
    outcome_type = OutcomeType.objects.filter(slug=slug).first()
    if outcome_type is None:
        raise Http404("No such outcome type")
    return {
        "outcome_type": outcome_type,
        "outcome_crumbs": [LIBRARY_CRUMB],
        **story_browser().outcome(request, outcome_type),
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
    return {
        "person": person,
        "person_crumbs": [{"url": "/people/", "label": "People"}],
        "strengths": list(person.strengths.order_by("name")),
        **story_browser().person(request, person),
    }
