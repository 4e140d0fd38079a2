from django.apps import AppConfig


class StoriesConfig(AppConfig):
    """What a story is (and its people, themes and outcomes), and how it is shown."""

    name = "stories"
    verbose_name = "Stories"

    def ready(self):
        from wagtail.signals import page_published

        from stories import permissions
        from stories.helpful import resync_helpful_count

        permissions.register()

        page_published.connect(resync_helpful_count, dispatch_uid="stories_resync_helpful_count")
