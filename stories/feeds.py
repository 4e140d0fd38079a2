"""Atom feeds of the newest public stories: all of them, per theme and per person.

Feed readers are anonymous, so feeds carry public stories only (`visible_to(None)`).
"""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.http import Http404
from django.utils.feedgenerator import Atom1Feed

from stories.listing import approved_themes, for_story_cards, stories_involving
from stories.models import Person, StoryPage, Theme

FEED_LENGTH = 20


def public_stories():
    return for_story_cards(StoryPage.objects.visible_to(None)).order_by("-first_published_at", "-pk")


class LatestStoriesFeed(Feed):
    feed_type = Atom1Feed
    title = "Storybank: latest stories"
    link = "/stories/"
    subtitle = "The newest aha stories our colleagues have shared."

    def items(self):
        return public_stories()[:FEED_LENGTH]

    def item_title(self, item: StoryPage) -> str:
        return item.title

    def item_description(self, item: StoryPage) -> str:
        parts = [item.aha or item.context, item.outcome and f"What changed: {item.outcome}"]
        return "\n\n".join(part for part in parts if part)

    def item_link(self, item: StoryPage) -> str:
        return item.url

    def item_guid(self, item: StoryPage) -> str:
        return f"storybank-story-{item.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: StoryPage):
        return item.first_published_at

    def item_updateddate(self, item: StoryPage):
        return item.last_published_at or item.first_published_at

    def item_author_name(self, item: StoryPage) -> str | None:
        return item.teller.name if item.teller else None

    def item_categories(self, item: StoryPage) -> list[str]:
        return item.theme_names  # approved themes only


class ThemeStoriesFeed(LatestStoriesFeed):
    def get_object(self, request, slug: str) -> Theme:
        theme = approved_themes().filter(slug=slug).first()
        if theme is None:
            raise Http404("No such theme")
        return theme

    def title(self, theme: Theme) -> str:
        return f"Storybank: stories about {theme.name}"

    def link(self, theme: Theme) -> str:
        return theme.get_absolute_url()

    def subtitle(self, theme: Theme) -> str:
        return theme.description or f"The newest stories about {theme.name}."

    def items(self, theme: Theme):
        return public_stories().filter(themes=theme)[:FEED_LENGTH]


class PersonStoriesFeed(LatestStoriesFeed):
    def get_object(self, request, slug: str) -> Person:
        person = Person.objects.filter(slug=slug).first()
        if person is None or not stories_involving(person, StoryPage.objects.visible_to(None)).exists():
            raise Http404("No such person")
        return person

    def title(self, person: Person) -> str:
        return f"Storybank: stories with {person.name}"

    def link(self, person: Person) -> str:
        return person.get_absolute_url()

    def subtitle(self, person: Person) -> str:
        return f"The newest stories {person.name} told or helped in."

    def items(self, person: Person):
        return stories_involving(person, public_stories())[:FEED_LENGTH]
