"""URL wiring: each app owns its own urls; Wagtail's page tree serves everything else."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from operations import views as operations_views
from questions import api as questions_api
from stories.api import api_router
from stories.permissions import editors_only_report_urls

urlpatterns = [
    path("healthz", operations_views.healthz, name="healthz"),
    *editors_only_report_urls(),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path(
        "accounts/password_reset/",
        # The link in the e-mail is built on SITE_URL, never on the Host header a request brings.
        auth_views.PasswordResetView.as_view(
            extra_email_context={"site_url": settings.WAGTAILADMIN_BASE_URL.rstrip("/")}
        ),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v2/", api_router.urls),
    path("api/questions/", questions_api.question_list, name="questions_api"),
    path("api/questions/<int:question_id>/", questions_api.question_detail, name="question_api"),
    path("share/", include("capture.urls")),
    path("", include("search.urls")),
    path("", include("stories.urls")),
    path("", include("operations.urls")),
    path("", include("questions.feed_urls")),
    path("", include("questions.urls")),
    path("sitemap.xml", sitemap, name="sitemap"),
    path("", include(wagtail_urls)),
]
