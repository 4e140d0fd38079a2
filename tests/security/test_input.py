"""Bad input answers 400 with a reason, never 500; and a forgotten password can be reset.

Each of the first tests is a request that answered 500 before query parameters went through
stories/params.py: `str.isdigit()` accepts "²" and `int()` then fails, or the database was handed a
number or a character it cannot take.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from tests.factories import StoryPageFactory, UserFactory
from tests.stories.story_helpers import add_transcript, attach_clip

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def embedded_search(settings):
    settings.ELASTICSEARCH_URL = None


@pytest.fixture
def client(client):
    """Answer a crash as the 500 a visitor would get, not as an exception in the test."""
    client.raise_request_exception = False
    return client


def reason_of(response) -> str:
    if response["Content-Type"].startswith("application/json"):
        body = response.json()
        return body.get("error") or body.get("message") or ""
    return response.content.decode()


def assert_refused(response, parameter: str) -> None:
    assert response.status_code == 400, response.status_code
    assert f"“{parameter}”" in reason_of(response)


def test_search_page_with_a_superscript_digit_year_answers_400_saying_why(client):
    assert_refused(client.get("/search/", {"year": "²"}), "year")


def test_search_page_with_a_superscript_digit_page_answers_400_saying_why(client):
    assert_refused(client.get("/search/", {"page": "²"}), "page")


def test_search_api_with_a_superscript_digit_per_page_answers_400_in_json(client):
    response = client.get("/api/search/", {"per_page": "²"})
    assert response["Content-Type"] == "application/json"
    assert_refused(response, "per_page")


def test_library_with_a_superscript_digit_year_answers_400_saying_why(client):
    StoryPageFactory(title="Some story")
    assert_refused(client.get("/stories/", {"year": "²"}), "year")


def test_library_with_arabic_indic_digits_for_a_page_answers_400(client):
    StoryPageFactory(title="Some story")
    assert_refused(client.get("/stories/", {"page": "١٢"}), "page")


def test_search_with_a_huge_page_number_answers_400(client):
    assert_refused(client.get("/search/", {"page": "9" * 40}), "page")


def test_search_with_a_repeated_single_valued_parameter_answers_400(client):
    assert_refused(client.get("/search/?sort=newest&sort=helpful"), "sort")


def test_search_with_an_overlong_query_answers_400(client):
    assert_refused(client.get("/search/", {"q": "word " * 2000}), "q")


def test_people_directory_with_an_overlong_name_query_answers_400(client):
    assert_refused(client.get("/people/", {"q": "x" * 10_000}), "q")


def test_bad_request_page_is_the_site_page_and_says_why(client):
    response = client.get("/search/", {"page": "²"})
    html = response.content.decode()
    assert "Storybank" in html and 'id="main"' in html  # the site's own page, with its navigation
    assert "must be a whole number written with the digits 0-9" in html


def test_client_asking_for_json_gets_the_reason_in_json(client):
    response = client.get("/search/", {"page": "²"}, headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert "“page”" in response.json()["error"]


def test_nul_character_in_any_parameter_answers_400_before_any_view(client):
    for path in ("/search/", "/stories/", "/admin/pages/search/", "/accounts/login/"):
        assert_refused(client.get(path, {"q": "a\x00b"}), "q")


def test_wagtail_api_with_a_huge_offset_answers_400(client):
    assert_refused(client.get("/api/v2/pages/", {"offset": "9" * 30}), "offset")


def test_wagtail_api_search_with_a_nul_character_answers_400(client):
    assert_refused(client.get("/api/v2/pages/", {"search": "\x00"}), "search")


def test_story_link_with_arabic_indic_digits_for_a_start_time_answers_400(client):
    story = StoryPageFactory(title="Jump in")
    attach_clip(story)
    assert_refused(client.get(story.url, {"t": "١٢"}), "t")


def test_transcript_download_with_an_unreadable_inline_flag_answers_400(client):
    story = StoryPageFactory(title="Spoken")
    add_transcript(story, [(0.0, 2.0, "Hello.")])
    assert_refused(client.get(f"/stories/{story.pk}/transcript.vtt", {"inline": "²"}), "inline")


def test_unknown_theme_on_the_library_is_still_reported_in_the_page(client):
    StoryPageFactory(title="Some story")
    response = client.get("/stories/", {"theme": "no-such-theme"})
    assert response.status_code == 200
    assert "There is no theme “no-such-theme”." in response.content.decode()


# --- Password reset -------------------------------------------------------------------------------


def test_password_reset_page_opens(client):
    response = client.get("/accounts/password_reset/")
    assert response.status_code == 200
    assert "Reset your password" in response.content.decode()


def test_login_page_links_to_password_reset(client):
    assert 'href="/accounts/password_reset/"' in client.get("/accounts/login/").content.decode()


def test_password_reset_mail_leads_to_a_new_password_that_signs_in(client):
    UserFactory(username="rosa", email="rosa@example.org", first_name="Rosa")
    response = client.post("/accounts/password_reset/", {"email": "rosa@example.org"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password_reset/done/"
    assert "Check your e-mail" in client.get(response["Location"]).content.decode()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rosa@example.org"] and message.subject == "Choose a new Storybank password"
    assert message.body.startswith("Hello Rosa,")
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    set_password_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_password_url, {"new_password1": "a fresh lantern 42", "new_password2": "a fresh lantern 42"}
    )
    assert done.status_code == 302 and done["Location"] == "/accounts/reset/done/"
    assert "Your new password is saved" in client.get(done["Location"]).content.decode()

    signed_in = client.post("/accounts/login/", {"username": "rosa", "password": "a fresh lantern 42"})
    assert signed_in.status_code == 302
    assert client.get("/share/mine/").status_code == 200
    assert "This link no longer works" in client.get(set_password_url).content.decode()


def test_password_reset_link_is_built_on_the_site_url_not_the_request_host(client, settings):
    UserFactory(username="rosa", email="rosa@example.org")
    client.post("/accounts/password_reset/", {"email": "rosa@example.org"}, headers={"Host": "evil.example"})
    assert "evil.example" not in mail.outbox[0].body
    assert f"{settings.WAGTAILADMIN_BASE_URL.rstrip('/')}/accounts/reset/" in mail.outbox[0].body


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password_reset/done/"
    assert "If an account uses that address" in client.get(response["Location"]).content.decode()
    assert mail.outbox == []


def test_password_change_page_opens_for_a_signed_in_user(client):
    user = UserFactory(username="rosa")
    client.force_login(user)
    response = client.get("/accounts/password_change/")
    assert response.status_code == 200
    changed = client.post(
        "/accounts/password_change/",
        {
            "old_password": "correct horse battery",
            "new_password1": "a fresh lantern 42",
            "new_password2": "a fresh lantern 42",
        },
    )
    assert changed.status_code == 302
    assert "Your new password is saved" in client.get(changed["Location"]).content.decode()
    assert get_user_model().objects.get(username="rosa").check_password("a fresh lantern 42")


# --- Wagtail's admin, found by the hostile-request sweep -------------------------------------------


@pytest.fixture
def editor_client(client):
    from operations.accounts import EDITORS_GROUP

    client.force_login(UserFactory(username="edna", is_staff=True, is_superuser=True, groups=[EDITORS_GROUP]))
    return client


def test_admin_explorer_with_a_huge_owner_id_answers_400(editor_client):
    assert_refused(editor_client.get("/admin/pages/", {"owner": "9" * 40}), "owner")


def test_admin_page_chooser_with_a_non_numeric_id_answers_400(editor_client):
    assert_refused(editor_client.get("/admin/choose-page/chosen-multiple/", {"id": "²"}), "id")


def test_admin_search_with_a_stray_double_quote_never_answers_500(editor_client):
    """SQLite's full-text syntax refuses a stray quote (400 with the reason); PostgreSQL searches it."""
    from django.db import connection

    StoryPageFactory(title="Some story")
    response = editor_client.get("/admin/pages/", {"q": 'price"list'})
    if connection.vendor == "sqlite":
        assert_refused(response, "q")
    else:
        assert response.status_code == 200
    assert editor_client.get("/admin/pages/", {"q": '"some story"'}).status_code == 200


def test_admin_list_page_past_the_last_answers_404_not_500(editor_client):
    from wagtail.models import Workflow

    workflow = Workflow.objects.first()
    assert editor_client.get(f"/admin/workflows/edit/{workflow.pk}/", {"p": "12"}).status_code == 404
    assert_refused(editor_client.get(f"/admin/workflows/edit/{workflow.pk}/", {"p": "²"}), "p")


def test_admin_action_with_a_next_that_is_no_path_answers_400(editor_client):
    story = StoryPageFactory(title="Some story")
    assert_refused(editor_client.post(f"/admin/pages/{story.pk}/lock/", {"next": "²"}), "next")


def test_admin_form_sent_without_its_management_fields_answers_400_saying_which(editor_client):
    story = StoryPageFactory(title="Some story")
    response = editor_client.post(f"/admin/pages/{story.pk}/edit/", {"title": "Changed"})
    assert response.status_code == 400
    assert "missing the field" in reason_of(response)
