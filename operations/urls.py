from django.urls import re_path

from operations.media import serve_upload

urlpatterns = [
    re_path(r"^media/(?P<path>.+)$", serve_upload, name="serve_upload"),
]
