from django.apps import AppConfig


class SearchConfig(AppConfig):
    """How stories are found: the search index (embedded or Elasticsearch), its sync and pages."""

    name = "search"
    verbose_name = "Search"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from search import signals

        signals.connect()
