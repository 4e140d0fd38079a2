"""Share-form test data: a filled-in form and generated images.

The review workflow and the people who use the form are fixtures in tests/conftest.py, because the
security tests use them too.
"""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def story_data(**overrides) -> dict:
    """A complete, valid share form submission."""
    data = {
        "title": "One message to research saved a week",
        "context": "We were stuck rebuilding a pricing model nobody on the team understood.",
        "aha": "I asked on the research channel and learned Priya had built it two years ago.",
        "outcome": "She walked us through it in an hour and we shipped the change that week.",
        "impact_value": "5",
        "impact_unit": "days saved",
        "occurred_on": "2026-03-14",
        "visibility": "public",
        "consent": "on",
        "new_themes": "Asking for help",
        "new_people": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def image_bytes(format: str = "PNG", size=(64, 48), mode: str = "RGB", color="orange") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format=format)
    return buffer.getvalue()


def image_upload(name: str = "cover.png", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(**kwargs), content_type="image/png")
