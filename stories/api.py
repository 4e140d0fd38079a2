"""Read-only Wagtail API v2 at /api/v2/: pages, with stories filtered by who is asking."""

from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.api.v2.views import PagesAPIViewSet

from stories.models import StoryPage


class StoryAwarePagesAPIViewSet(PagesAPIViewSet):
    """Wagtail's pages endpoint, minus the stories this requester may not read.

    Every listing, filter, detail and find lookup starts from `get_base_queryset`, so removing
    drafts and (for anonymous requests) staff-only stories here removes them everywhere.
    """

    def get_base_queryset(self):
        hidden_stories = StoryPage.objects.exclude(
            pk__in=StoryPage.objects.visible_to(self.request.user).values("pk")
        )
        return super().get_base_queryset().exclude(pk__in=hidden_stories.values("pk"))

    def get_queryset(self):
        """With ?type=stories.StoryPage, load the story fields' people, themes and transcript up front."""
        queryset = super().get_queryset()
        if queryset.model is StoryPage:
            queryset = queryset.select_related("teller").prefetch_related(
                "people", "themes", "outcome_types", "transcript_segments"
            )
        return queryset


api_router = WagtailAPIRouter("wagtailapi")
api_router.register_endpoint("pages", StoryAwarePagesAPIViewSet)
