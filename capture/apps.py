from django.apps import AppConfig


class CaptureConfig(AppConfig):
    """How stories come in: the share form, recorded or uploaded clips, and transcription."""

    name = "capture"
    verbose_name = "Capture"
