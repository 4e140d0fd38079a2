"""/share/…: telling a story by form or by clip."""

from django.urls import path  # noqa: F401

app_name = "capture"

# The form journey (capture/views/form.py) and the clip journey (capture/views/voice.py)
# add their routes here.
urlpatterns: list = []

# The form journey.
from capture.views import form as form_views  # noqa: E402

urlpatterns += [
    path("", form_views.share_story, name="share"),
    path("mine/", form_views.my_stories, name="my_stories"),
    path("people/", form_views.people_search, name="people_search"),
    path("story/<int:page_id>/edit/", form_views.edit_story, name="edit_story"),
    path("story/<int:page_id>/submitted/", form_views.story_submitted, name="story_submitted"),
]

# The clip journey: record or upload, then follow the transcription.
from capture.views import voice as voice_views  # noqa: E402

urlpatterns += [
    path("voice/", voice_views.voice_share, name="voice"),
    path("<int:submission_id>/", voice_views.submission_status, name="submission_status"),
    path("<int:submission_id>/status/", voice_views.submission_status_json, name="submission_status_json"),
    path("<int:submission_id>/retry/", voice_views.submission_retry, name="submission_retry"),
]
