from django.apps import AppConfig


class StoriesConfig(AppConfig):
    """What a story is (and its people, themes and outcomes), and how it is shown."""

    name = "stories"
    verbose_name = "Stories"
