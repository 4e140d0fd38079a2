"""The home page: the front door to the story library."""

from django.db import models
from wagtail.models import Page

from stories.listing import home_context
from stories.models import StoryIndexPage


class HomePage(Page):
    """Site root. Its template shows featured, recent and most helpful stories and the themes."""

    intro = models.TextField(
        blank=True,
        default="Stories of the moment a colleague got it — told by the people who lived them.",
    )

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["stories.StoryIndexPage"]
    max_count = 1

    def route(self, request, path_components):
        """The library's address reads it in one query, as the library (Wagtail reads the page, then it again).

        Any other address routes as Wagtail's does.
        """
        if path_components:
            library = StoryIndexPage.objects.child_of(self).filter(slug=path_components[0]).first()
            if library is not None:
                library._cached_parent_obj = self  # as Wagtail's route does: the parent is known
                return library.route(request, path_components[1:])
        return super().route(request, path_components)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(home_context(request))
        return context
