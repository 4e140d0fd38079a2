"""In the admin, a storyteller works on their own drafts only, and never publishes.

Wagtail's owner-based `add` permission decides; these tests drive the real admin views.
"""

import pytest
from django.urls import reverse

from stories.models import StoryPage, Visibility
from stories.workflow import submit_for_review
from tests.factories import StoryPageFactory, library, make_editor, make_storyteller

pytestmark = pytest.mark.django_db

SECRET_TITLE = "Unreviewed draft about the merger"


@pytest.fixture
def alice():
    return make_storyteller("alice")


@pytest.fixture
def bob():
    return make_storyteller("bob")


@pytest.fixture
def alices_draft_in_review(alice):
    story = StoryPageFactory(title=SECRET_TITLE, publish=False, owner=alice)
    submit_for_review(story, alice)
    return story


@pytest.fixture
def staff_only_story(alice):
    return StoryPageFactory(title="A live staff-only story", visibility=Visibility.STAFF, owner=alice)


def admin_url(name, story):
    return reverse(f"wagtailadmin_pages:{name}", args=(story.pk,))


@pytest.mark.parametrize(
    "view", ["edit", "view_draft", "delete", "history", "revisions_index", "move", "copy", "usage"]
)
def test_storyteller_cannot_open_another_tellers_draft_in_the_admin(
    client, bob, alices_draft_in_review, view
):
    client.force_login(bob)
    response = client.get(admin_url(view, alices_draft_in_review))
    assert response.status_code in (302, 403, 404)
    assert SECRET_TITLE not in response.content.decode()


def test_storyteller_cannot_delete_another_tellers_draft(client, bob, alices_draft_in_review):
    client.force_login(bob)
    client.post(admin_url("delete", alices_draft_in_review))
    assert StoryPage.objects.filter(pk=alices_draft_in_review.pk).exists()


def test_storyteller_cannot_edit_a_live_staff_only_story_of_someone_else(client, bob, staff_only_story):
    client.force_login(bob)
    assert client.get(admin_url("edit", staff_only_story)).status_code in (302, 403, 404)
    client.post(admin_url("edit", staff_only_story), {"title": "Vandalised"})
    assert StoryPage.objects.get(pk=staff_only_story.pk).get_latest_revision_as_object().title != "Vandalised"


def test_storyteller_cannot_unpublish_another_tellers_story(client, bob, staff_only_story):
    client.force_login(bob)
    client.post(admin_url("unpublish", staff_only_story))
    assert StoryPage.objects.get(pk=staff_only_story.pk).live


@pytest.mark.parametrize("listing", ["explorer", "search", "chooser"])
def test_storyteller_never_sees_another_tellers_draft_listed(client, bob, alices_draft_in_review, listing):
    client.force_login(bob)
    url = {
        "explorer": reverse("wagtailadmin_explore", args=(library().pk,)),
        "search": reverse("wagtailadmin_pages:search") + "?q=merger",
        "chooser": reverse("wagtailadmin_choose_page_child", args=(library().pk,)),
    }[listing]
    response = client.get(url)
    assert response.status_code == 200
    assert SECRET_TITLE not in response.content.decode()


def test_storyteller_still_sees_and_edits_their_own_draft(client, alice):
    story = StoryPageFactory(title="Alices own draft", publish=False, owner=alice)
    client.force_login(alice)
    assert (
        "Alices own draft"
        in client.get(reverse("wagtailadmin_explore", args=(library().pk,))).content.decode()
    )
    assert client.get(admin_url("edit", story)).status_code == 200
    assert client.get(admin_url("view_draft", story)).status_code == 200


def test_storyteller_has_no_publish_permission_anywhere(alice):
    story = StoryPageFactory(publish=False, owner=alice)
    assert not story.permissions_for_user(alice).can_publish()
    assert not library().permissions_for_user(alice).can_publish_subpage()


def test_storyteller_cannot_browse_other_peoples_pictures(client, bob, alice):
    from wagtail.images import get_image_model
    from wagtail.images.tests.utils import get_test_image_file

    get_image_model().objects.create(
        title="Alices draft cover", file=get_test_image_file(), uploaded_by_user=alice
    )
    client.force_login(bob)
    for url in (reverse("wagtailimages:index"), reverse("wagtailimages_chooser:choose")):
        response = client.get(url)
        assert "Alices draft cover" not in response.content.decode()


def test_editor_sees_every_draft(client, alices_draft_in_review):
    client.force_login(make_editor())
    assert client.get(admin_url("edit", alices_draft_in_review)).status_code == 200
    assert SECRET_TITLE in client.get(reverse("wagtailadmin_explore", args=(library().pk,))).content.decode()


def admin_urls_without_arguments() -> list[str]:
    """Every admin page that needs no id: dashboards, listings, reports, choosers."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found = []

    def walk(patterns, prefix):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern) and not entry.pattern.converters:
                route = prefix + str(entry.pattern)
                if route.startswith("admin/") and "(?P" not in route and "^" not in route:
                    found.append("/" + route.replace("$", ""))

    walk(get_resolver().url_patterns, "")
    return sorted(set(found) - {"/admin/logout/", "/admin/failwhale/"})


def test_no_admin_page_shows_a_storyteller_the_title_of_another_tellers_draft(
    client, bob, alices_draft_in_review
):
    client.force_login(bob)
    leaks = []
    for url in admin_urls_without_arguments():
        response = client.get(url)
        if SECRET_TITLE.encode() in response.content:
            leaks.append(url)
    assert not leaks


@pytest.mark.parametrize(
    "url",
    [
        "/admin/pages/{draft}/",
        "/admin/pages/{draft}/results/",
        "/admin/choose-page/{draft}/",
        "/admin/bulk/wagtailcore/page/delete/?id=all&childOf={library}",
        "/admin/bulk/wagtailcore/page/delete/?id={draft}",
        "/admin/bulk/wagtailcore/page/move/?id={draft}",
        "/admin/bulk/wagtailcore/page/publish/?id={draft}",
        "/admin/pages/{draft}/move/{library}/confirm/",
    ],
)
def test_admin_views_that_name_a_page_never_print_another_tellers_title(
    client, bob, alices_draft_in_review, url
):
    client.force_login(bob)
    response = client.get(url.format(draft=alices_draft_in_review.pk, library=library().pk))
    assert response.status_code in (302, 403, 404)
    assert SECRET_TITLE not in response.content.decode()


@pytest.mark.parametrize("report", ["site-history", "workflow", "workflow_tasks", "page-types-usage"])
def test_reports_naming_other_people_are_for_editors(client, bob, alices_draft_in_review, report):
    client.force_login(bob)
    response = client.get(f"/admin/reports/{report}/")
    assert response.status_code in (302, 403)
    client.force_login(make_editor())
    assert client.get(f"/admin/reports/{report}/").status_code == 200


def test_the_admin_api_lists_no_picture_or_document_a_storyteller_may_not_choose(client, bob, alice):
    from django.core.files.base import ContentFile
    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model
    from wagtail.images.tests.utils import get_test_image_file

    get_image_model().objects.create(title="Alices cover", file=get_test_image_file(), uploaded_by_user=alice)
    document = get_document_model().objects.create(title="Alices notes", uploaded_by_user=alice)
    document.file.save("notes.txt", ContentFile(b"notes"))
    client.force_login(bob)
    for url in ("/admin/api/main/images/?fields=*", "/admin/api/main/documents/"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.json()["meta"]["total_count"] == 0, url
    client.force_login(make_editor())
    assert client.get("/admin/api/main/images/").json()["meta"]["total_count"] == 1


def test_a_storyteller_cannot_replace_a_published_cover_in_the_admin(client, alice):
    from wagtail.images import get_image_model
    from wagtail.images.tests.utils import get_test_image_file

    cover = get_image_model().objects.create(
        title="Cover", file=get_test_image_file(), uploaded_by_user=alice
    )
    StoryPageFactory(title="Live with a cover", cover_image=cover, owner=alice)
    client.force_login(alice)
    client.post(f"/admin/images/{cover.pk}/", {"title": "Replaced"})
    client.post(f"/admin/images/{cover.pk}/delete/")
    assert get_image_model().objects.get(pk=cover.pk).title == "Cover"
