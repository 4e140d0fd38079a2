"""The library, theme, outcome and person pages and the home page's lists: /search/ with no words.

Each is a search query (the library's read from its URL by /search/'s rules, the others with one
filter fixed) answered by the search service for this reader, so every list filters, counts and
pages as /search/ does. While the index is unavailable the same query is answered from the
database (`stories.listing.stories_from_database`) and the page says so. Registered with
`stories.listing` when the app starts (stories must not import search).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.core.paginator import Page
from django.http import HttpRequest

from search.backends.base import FACET_SIZES
from search.display import FACET_TITLES, facet_group
from search.query import FACETS, MAX_PAGE, FacetValue, SearchQuery
from search.service import active_filters, label_facets, search_stories
from stories import listing
from stories.models import OutcomeType, Person, StoryIndexPage, StoryPage, Theme
from stories.params import QueryParams

STORIES_PER_PAGE = listing.STORIES_PER_PAGE
# A person page lists everyone's stories with them on one page; past this many it links the library.
PERSON_STORIES_SHOWN = 48
HOME_RECENT = 6
HOME_MOST_HELPFUL = 5
HOME_THEMES = 16
HOME_OUTCOMES = 8
THEME_EXPERTS = 6
OUTCOME_THEMES = 12
PERSON_THEMES = 6
PERSON_OUTCOMES = 6
# How a chosen value the reader's vocabulary does not name is reported ("There is no theme …").
UNKNOWN_VALUE_NOUNS = {"theme": "theme", "person": "person", "outcome": "outcome type", "source": "source"}


@dataclass
class BrowsedStories:
    """One page of a query's stories (loaded for their cards), its total and its facets."""

    query: SearchQuery
    total: int
    stories: list[StoryPage]
    facets: dict[str, list[FacetValue]]
    active_filters: list[tuple[str, FacetValue]]
    from_database: bool = False

    @property
    def unknown_values(self) -> list[tuple[str, str]]:
        """Chosen values nobody named for this reader: a mistyped slug, or someone they may not know of."""
        named = {(facet, value.value) for facet, value in self.active_filters}
        return [
            (facet, str(value))
            for facet, values in self.query.filters().items()
            for value in values
            if (facet, str(value)) not in named
        ]

    def page_obj(self) -> Page:
        """Django's Page for these stories: never past MAX_PAGE, the last page the parser accepts."""
        pageable = min(self.total, MAX_PAGE * self.query.per_page)
        return listing.counted_page(self.stories, self.query.page, pageable, self.query.per_page)


def page_cards(stories) -> dict[int, StoryPage]:
    """The library's cards: story pages with what stories/includes/story_card.html shows, loaded at once."""
    return {story.pk: story for story in listing.for_story_cards(stories)}


def story_ids(stories) -> dict[int, int]:
    """No card at all, only which hits the reader may see: for lists that load their cards together."""
    return {pk: pk for pk in stories.values_list("pk", flat=True)}


def browse_stories(query: SearchQuery, user, *, cards=page_cards) -> BrowsedStories:
    """The search service's answer to `query` for `user`; the database's while the index is unavailable.

    A page past the last shows the last one, as lists shrink between visits. `cards` loads the
    stories (see search_stories); the database's answer always holds story pages.
    """
    page = search_stories(query, user, cards=cards)
    if not page.unavailable and page.total and query.page > page.page_count:
        page = search_stories(replace(query, page=page.page_count), user, cards=cards)
    if page.unavailable:
        return stories_from_database(query, user)
    return BrowsedStories(
        query=replace(page.query, page=min(page.query.page, page.page_count)),
        total=page.total,
        stories=[result.story for result in page.results],
        facets=page.facets,
        active_filters=page.active_filters,
    )


def stories_from_database(query: SearchQuery, user) -> BrowsedStories:
    """`query` answered from the database, its facets kept to what the index returns and named alike."""
    found = listing.stories_from_database(
        query, user, sort=query.effective_sort, page=query.page, per_page=query.per_page
    )
    query = replace(query, page=found.page_number)
    counted = {facet: index_facet_values(facet, found.facet_counts.get(facet, []), query) for facet in FACETS}
    facets = label_facets(counted, query, user, index_behind=False)
    return BrowsedStories(
        query=query,
        total=found.total,
        stories=found.stories,
        facets=facets,
        active_filters=active_filters(query, facets),
        from_database=True,
    )


def index_facet_values(facet: str, counts: list[tuple[str, int]], query: SearchQuery) -> list[FacetValue]:
    """The values an index returns for `facet`: its FACET_SIZES most used, and every chosen one."""
    chosen = {str(value) for value in query.filters().get(facet, ())}
    ranked = sorted(counts, key=lambda item: (-item[1], item[0]))
    return [
        FacetValue(value, "", count)
        for rank, (value, count) in enumerate(ranked)
        if rank < FACET_SIZES[facet] or value in chosen
    ]


def most_used(values: list[FacetValue], limit: int) -> list[FacetValue]:
    """The `limit` values with the most stories (ties by name), leaving out those with none."""
    used = [value for value in values if value.count]
    return sorted(used, key=lambda value: (-value.count, value.label.lower()))[:limit]


@dataclass
class RankedPerson:
    person: Person
    total: int


def ranked_people(values: list[FacetValue], limit: int) -> list[RankedPerson]:
    """The people with the most stories among `values` (the person facet), loaded for their avatars."""
    top = most_used(values, limit)
    people = Person.objects.select_related("photo").in_bulk([value.value for value in top], field_name="slug")
    return [RankedPerson(people[value.value], value.count) for value in top if value.value in people]


def page_number(request: HttpRequest) -> int:
    """?page=, read as /search/ reads it (a malformed one is a 400)."""
    return QueryParams(request.GET).integer("page", default=1, minimum=1, maximum=MAX_PAGE)


def story_list_context(browsed: BrowsedStories) -> dict:
    """What stories/includes/story_grid.html and pagination.html show, and whether it came from the database."""
    page_obj = browsed.page_obj()
    return {
        "stories": browsed.stories,
        "page_obj": page_obj,
        "page_links": listing.page_links(page_obj),
        "story_count": browsed.total,
        "from_database": browsed.from_database,
    }


def filter_context(browsed: BrowsedStories, base_url: str) -> dict:
    """The facet boxes, removable chips and problems of a filtered list, its links kept on `base_url`."""
    query = browsed.query
    return {
        "query": query,
        "facet_groups": [facet_group(facet, browsed.facets.get(facet, [])) for facet in FACETS],
        "chips": [
            {
                "facet": FACET_TITLES.get(facet, facet.title()),
                "label": value.label,
                "url": query.without(facet, value.value).url(base_url),
            }
            for facet, value in browsed.active_filters
        ],
        "clear_url": query.url(
            base_url, themes=(), people=(), outcomes=(), years=(), languages=(), sources=(), page=1
        ),
        "has_filters": bool(query.filters()),
        "problems": [
            {
                "text": f"There is no {UNKNOWN_VALUE_NOUNS.get(facet, facet)} “{value}”.",
                "remove_url": query.without(facet, value).url(base_url),
            }
            for facet, value in browsed.unknown_values
        ],
    }


# --- The pages ----------------------------------------------------------------------------------


def library_stories(request: HttpRequest, library: StoryIndexPage) -> dict:
    """The library: /search/'s filters, counts and sorts with no words (?q= belongs to /search/)."""
    query = replace(SearchQuery.from_params(request.GET, per_page=STORIES_PER_PAGE), text="")
    browsed = browse_stories(query, request.user)
    return {
        **story_list_context(browsed),
        **filter_context(browsed, library.get_url(request) or "/stories/"),
    }


def theme_stories(request: HttpRequest, theme: Theme) -> dict:
    query = SearchQuery(themes=(theme.slug,), page=page_number(request), per_page=STORIES_PER_PAGE)
    browsed = browse_stories(query, request.user)
    return {
        **story_list_context(browsed),
        "experts": ranked_people(browsed.facets.get("person", []), THEME_EXPERTS),
        "outcome_types": most_used(browsed.facets.get("outcome", []), FACET_SIZES["outcome"]),
    }


def outcome_stories(request: HttpRequest, outcome_type: OutcomeType) -> dict:
    query = SearchQuery(outcomes=(outcome_type.slug,), page=page_number(request), per_page=STORIES_PER_PAGE)
    browsed = browse_stories(query, request.user)
    return {
        **story_list_context(browsed),
        "themes": most_used(browsed.facets.get("theme", []), OUTCOME_THEMES),
    }


def person_stories(request: HttpRequest, person: Person) -> dict:
    """The stories someone told and those they helped in, newest first, and what they are about."""
    browsed = browse_stories(SearchQuery(people=(person.slug,), per_page=PERSON_STORIES_SHOWN), request.user)
    return {
        "stories_told": [story for story in browsed.stories if story.teller_id == person.pk],
        "stories_helped": [story for story in browsed.stories if story.teller_id != person.pk],
        "story_total": browsed.total,
        "more_stories": browsed.total > len(browsed.stories),
        "known_for_themes": most_used(browsed.facets.get("theme", []), PERSON_THEMES),
        "outcome_types": most_used(browsed.facets.get("outcome", []), PERSON_OUTCOMES),
        "from_database": browsed.from_database,
    }


def home_lists(request: HttpRequest) -> dict:
    """Featured stories (an editor's choice, from the database), then the newest and most helpful."""
    user = request.user
    featured_ids = listing.featured_story_ids(user)
    newest = browse_stories(SearchQuery(per_page=HOME_RECENT + len(featured_ids)), user, cards=story_ids)
    if newest.from_database:
        newest_ids = [story.pk for story in newest.stories]
    else:
        newest_ids = list(newest.stories)
    recent_ids = [pk for pk in newest_ids if pk not in featured_ids][:HOME_RECENT]
    # The featured and the newest stories' cards in one load.
    loaded = page_cards(StoryPage.objects.visible_to(user).filter(pk__in=[*featured_ids, *recent_ids]))
    return {
        "featured_stories": [loaded[pk] for pk in featured_ids if pk in loaded],
        "recent_stories": [loaded[pk] for pk in recent_ids if pk in loaded],
        "most_helpful_stories": most_helpful_stories(user),
        "themes": most_used(newest.facets.get("theme", []), HOME_THEMES),
        "outcome_types": most_used(newest.facets.get("outcome", []), HOME_OUTCOMES),
        "story_total": newest.total,
        "people_total": listing.people_with_stories_count(user),
        "from_database": newest.from_database,
    }


def most_helpful_stories(user) -> list:
    """The stories most readers found helpful, as the service's cards: the home page shows a title and a link.

    While the index cannot answer, the database's story pages stand in.
    """
    query = SearchQuery(sort="helpful", per_page=HOME_MOST_HELPFUL, ranking_only=True)
    page = search_stories(query, user)
    if page.unavailable:
        stories = stories_from_database(query, user).stories
    else:
        stories = [result.story for result in page.results]
    return [story for story in stories if story.helpful_count]


SEARCH_BROWSER = listing.StoryBrowser(
    home=home_lists,
    library=library_stories,
    theme=theme_stories,
    outcome=outcome_stories,
    person=person_stories,
)
