from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Keeping Storybank running: set-up, the web and worker processes, health and uploads."""

    name = "operations"
    verbose_name = "Operations"
