"""Public story routes outside the page tree; /stories/ and each story page are served by Wagtail."""

from django.urls import path

from stories import feeds, views

app_name = "stories"

urlpatterns = [
    path("themes/<slug:slug>/", views.theme_detail, name="theme"),
    path("outcomes/<slug:slug>/", views.outcome_detail, name="outcome"),
    path("people/", views.people_directory, name="people"),
    path("people/<slug:slug>/", views.person_detail, name="person"),
    path(
        "stories/<int:story_id>/transcript.<str:transcript_format>",
        views.transcript_download,
        name="transcript",
    ),
    path("stories/<int:story_id>/helpful/", views.helpful_toggle, name="helpful"),
    path("feeds/stories/", feeds.LatestStoriesFeed(), name="feed"),
    path("feeds/themes/<slug:slug>/", feeds.ThemeStoriesFeed(), name="theme_feed"),
    path("feeds/people/<slug:slug>/", feeds.PersonStoriesFeed(), name="person_feed"),
]
