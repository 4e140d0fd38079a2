"""Staff-only stories reach signed-in readers only, and drafts reach nobody, on every public surface."""

from __future__ import annotations

import pytest

from search.backends import EMBEDDED
from search.sync import apply_pending_updates
from tests.factories import StoryPageFactory
from tests.search.listing_markup import facet_boxes
from tests.stories.story_helpers import add_transcript, days_ago, set_published

pytestmark = pytest.mark.django_db

PUBLIC = "A public story"
STAFF = "A staff-only story"
DRAFT = "A draft story"


@pytest.fixture(params=["search index", "database fallback"])
def three_stories(request, settings, pricing, time_saved, ada):
    """One public, one staff-only and one draft story, all on Pricing, told by Ada.

    Listed from the search index, and from the database as while the index is unavailable.
    """
    settings.STORYBANK_SEARCH_BACKEND = EMBEDDED
    settings.ELASTICSEARCH_URL = None
    common = {"themes": [pricing], "outcome_types": [time_saved], "teller": ada}
    public = set_published(StoryPageFactory(title=PUBLIC, **common), days_ago(3))
    staff = set_published(StoryPageFactory(title=STAFF, visibility="staff", **common), days_ago(2))
    draft = StoryPageFactory(title=DRAFT, publish=False, **common)
    if request.param == "search index":
        apply_pending_updates()
    return public, staff, draft


PAGES = ["/", "/stories/", "/themes/pricing/", "/outcomes/time-saved/", "/people/ada-lovelace/"]


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_reader_sees_only_public_stories(client, three_stories, url):
    html = client.get(url).content.decode()
    assert PUBLIC in html
    assert STAFF not in html
    assert DRAFT not in html


@pytest.mark.parametrize("url", PAGES)
def test_signed_in_reader_also_sees_staff_only_stories_but_never_drafts(signed_in_client, three_stories, url):
    html = signed_in_client.get(url).content.decode()
    assert PUBLIC in html
    assert STAFF in html
    assert DRAFT not in html


def test_library_counts_follow_visibility(client, signed_in_client, three_stories):
    assert "1 story</h2>" in client.get("/stories/").content.decode()
    html = signed_in_client.get("/stories/").content.decode()
    assert "2 stories</h2>" in html
    assert facet_boxes(html)["theme"] == {"pricing": ("Pricing", 2, False)}


def test_home_theme_counts_follow_visibility(client, signed_in_client, three_stories):
    anonymous = client.get("/").content.decode()
    assert '<span class="count" aria-label="1 story">1</span>' in anonymous
    signed_in = signed_in_client.get("/").content.decode()
    assert '<span class="count" aria-label="2 stories">2</span>' in signed_in


def test_theme_and_people_rankings_count_only_visible_stories(client, signed_in_client, three_stories):
    assert "1 story on Pricing" in client.get("/people/?theme=pricing").content.decode().replace(
        "<strong>", ""
    ).replace("</strong>", "")
    assert "2 stories on Pricing" in signed_in_client.get("/people/?theme=pricing").content.decode().replace(
        "<strong>", ""
    ).replace("</strong>", "")
    assert "1 story" in client.get("/themes/pricing/").content.decode().split('id="experts-heading"')[1]


def test_person_with_only_hidden_stories_is_not_listed_for_anonymous_readers(client, signed_in_client, grace):
    StoryPageFactory(title="Grace's internal story", visibility="staff", teller=grace)
    assert client.get("/people/grace-hopper/").status_code == 404
    assert "Grace Hopper" not in client.get("/people/").content.decode()
    assert signed_in_client.get("/people/grace-hopper/").status_code == 200
    assert "Grace Hopper" in signed_in_client.get("/people/").content.decode()


def test_person_named_only_in_a_draft_stays_private(signed_in_client, grace):
    StoryPageFactory(title="Not yet", publish=False, teller=grace)
    assert "Grace Hopper" not in signed_in_client.get("/people/").content.decode()


def test_staff_only_story_page_sends_anonymous_readers_to_sign_in(client, signed_in_client, three_stories):
    _public, staff, _draft = three_stories
    response = client.get(staff.url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert signed_in_client.get(staff.url).status_code == 200


def test_draft_story_page_is_not_found_even_when_signed_in(signed_in_client, three_stories):
    _public, _staff, draft = three_stories
    assert signed_in_client.get("/stories/" + draft.slug + "/").status_code == 404


def test_previous_and_next_skip_stories_the_reader_may_not_see(client, signed_in_client, three_stories):
    public, staff, _draft = three_stories
    newest = set_published(StoryPageFactory(title="The newest public story"), days_ago(1))
    anonymous = client.get(newest.url).content.decode()
    assert f'rel="next" href="{public.url}"' in anonymous
    assert STAFF not in anonymous
    signed_in = signed_in_client.get(newest.url).content.decode()
    assert f'rel="next" href="{staff.url}"' in signed_in


def test_related_stories_never_offer_hidden_stories(client, signed_in_client, three_stories):
    public, _staff, _draft = three_stories
    anonymous = client.get(public.url).content.decode()
    assert STAFF not in anonymous and DRAFT not in anonymous
    signed_in = signed_in_client.get(public.url).content.decode()
    assert STAFF in signed_in.split('id="related-heading"')[1]
    assert DRAFT not in signed_in


def test_sitemap_lists_public_stories_only(client, signed_in_client, three_stories):
    public, staff, draft = three_stories
    for reader in (client, signed_in_client):
        xml = reader.get("/sitemap.xml").content.decode()
        assert f"/stories/{public.slug}/" in xml
        assert f"/stories/{staff.slug}/" not in xml
        assert f"/stories/{draft.slug}/" not in xml


def test_library_person_filter_does_not_reveal_hidden_people(client, grace):
    StoryPageFactory(title="Grace's internal story", visibility="staff", teller=grace)
    html = client.get("/stories/?person=grace-hopper").content.decode()
    assert "There is no person “grace-hopper”." in html
    assert "Grace's internal story" not in html


def test_transcript_of_staff_only_story_needs_sign_in(client, signed_in_client, three_stories):
    _public, staff, draft = three_stories
    add_transcript(staff, [(0, 1, "Internal words.")])
    add_transcript(draft, [(0, 1, "Draft words.")])
    response = client.get(f"/stories/{staff.pk}/transcript.txt")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "Internal words." in signed_in_client.get(f"/stories/{staff.pk}/transcript.txt").content.decode()
    assert signed_in_client.get(f"/stories/{draft.pk}/transcript.txt").status_code == 404
