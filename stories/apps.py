from django.apps import AppConfig


class StoriesConfig(AppConfig):
    """What a story is (and its people, themes and outcomes), and how it is shown."""

    name = "stories"
    verbose_name = "Stories"

    def ready(self):
        # Imported here because these modules import models, which Django loads before ready().
        from wagtail.signals import page_published

        from stories import permissions
        from stories.helpful import resync_helpful_count
        from stories.listing import library_context, story_context
        from stories.models import StoryIndexPage, StoryPage, provide_page_context

        permissions.register()
        provide_page_context(StoryIndexPage, library_context)
        provide_page_context(StoryPage, story_context)

        page_published.connect(resync_helpful_count, dispatch_uid="stories_resync_helpful_count")
