"""/share/…: telling a story by form or by clip."""

from django.urls import path  # noqa: F401

app_name = "capture"

# The form journey (capture/views/form.py) and the clip journey (capture/views/voice.py)
# add their routes here.
urlpatterns: list = []
