"""Following questions without opening the board: personal Atom feeds, and the digest's unsubscribe link."""

from django.urls import path

from questions import digest_views, feeds

app_name = "question_feeds"

urlpatterns = [
    path("feeds/questions/<str:key>/", feeds.AnsweredQuestionsFeed(), name="answered"),
    path(
        "feeds/questions/<str:key>/themes/<slug:slug>/", feeds.AnsweredQuestionsFeed(), name="answered_theme"
    ),
    path("questions/digest/stop/<str:token>/", digest_views.stop_digest, name="stop_digest"),
]
