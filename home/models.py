"""The home page: the front door to the story library."""

from django.db import models
from wagtail.models import Page

from stories.listing import home_context


class HomePage(Page):
    """Site root. Its template shows featured, recent and most helpful stories and the themes."""

    intro = models.TextField(
        blank=True,
        default="Stories of the moment a colleague got it — told by the people who lived them.",
    )

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["stories.StoryIndexPage"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(home_context(request))
        return context
