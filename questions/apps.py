from django.apps import AppConfig


class QuestionsConfig(AppConfig):
    """Questions brought to the library: asked, routed to the people who know, answered by a story."""

    name = "questions"
    verbose_name = "Questions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # These modules import models, which load only once the app registry is ready.
        from questions import evidence, sections, signals

        signals.connect()
        sections.register()
        evidence.register()
