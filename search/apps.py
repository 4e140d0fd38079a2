from django.apps import AppConfig


class SearchConfig(AppConfig):
    """How stories are found: the search index (embedded or Elasticsearch), its sync and pages."""

    name = "search"
    verbose_name = "Search"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # These modules import models, which load only once the app registry is ready.
        from search import signals
        from search.browse import SEARCH_BROWSER
        from search.related import related_stories
        from stories.listing import provide_story_browser
        from stories.related import provide_related_stories

        signals.connect()
        provide_related_stories(related_stories)
        provide_story_browser(SEARCH_BROWSER)
