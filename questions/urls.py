from django.urls import path

from questions import views

app_name = "questions"

urlpatterns = [
    path("ask/", views.ask, name="ask"),
    path("ask/answered/", views.answered_by_suggestion, name="answered_by_suggestion"),
    path("ask/post/", views.post_question, name="post"),
    path("questions/", views.board, name="board"),
    path("questions/<int:question_id>/", views.question_detail, name="detail"),
    path("questions/<int:question_id>/answer/", views.answer_question, name="answer"),
    path("questions/<int:question_id>/reply/", views.write_answer, name="write_answer"),
    path("questions/<int:question_id>/answers/<int:answer_id>/accept/", views.accept_answer, name="accept"),
    path("questions/<int:question_id>/follow/", views.follow_question, name="follow"),
    path("questions/<int:question_id>/tell/", views.tell_story, name="tell"),
    path("questions/<int:question_id>/close/", views.close_question, name="close"),
    path("questions/feeds/new-address/", views.new_feed_address, name="new_feed_address"),
    path("questions/stop/<str:token>/", views.stop_routing, name="stop_routing"),
    path("questions/quiet/<str:token>/", views.mute_question, name="mute"),
]
