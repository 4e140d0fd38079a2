"""The public pages render what a reader came for: home, library, story, theme, outcome and people."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from wagtail.rich_text import RichText

from search.backends import EMBEDDED
from search.sync import apply_pending_updates
from stories.models import Clip, StoryPage
from tests.factories import OutcomeTypeFactory, PersonFactory, StoryPageFactory
from tests.search.listing_markup import facet_boxes
from tests.stories.story_helpers import add_transcript, attach_clip, days_ago, set_published

pytestmark = pytest.mark.django_db

FALLBACK_NOTICE = "Search is catching up, so these stories come straight from the database"


def titles_in(html: str) -> list[str]:
    """Story card titles in page order."""
    return re.findall(r'class="story-card__title"[^>]*><a href="[^"]*">([^<]+)</a>', html)


class CaughtUpClient(Client):
    """A reader who arrives once the worker has brought the search index up to date."""

    def get(self, *args, **kwargs):
        apply_pending_updates()
        return super().get(*args, **kwargs)


@pytest.fixture(autouse=True)
def embedded_index(settings):
    """The listing pages find their stories in the search index: the embedded one here."""
    settings.STORYBANK_SEARCH_BACKEND = EMBEDDED
    settings.ELASTICSEARCH_URL = None


@pytest.fixture
def client():
    return CaughtUpClient()


# --- Home -------------------------------------------------------------------------------------


def test_home_shows_featured_and_recent_stories_and_search_box(client, pricing):
    StoryPageFactory(title="The featured one", featured=True, themes=[pricing])
    StoryPageFactory(title="A recent one")
    html = client.get("/").content.decode()
    assert 'id="featured-heading"' in html
    featured_section = html.split('id="featured-heading"')[1].split('id="recent-heading"')[0]
    assert "The featured one" in featured_section
    assert "A recent one" in html.split('id="recent-heading"')[1]
    assert re.search(r'<form class="search-box" action="/search/" method="get"', html)
    assert 'name="q"' in html


def test_home_lists_themes_with_story_counts(client, pricing, onboarding):
    StoryPageFactory(title="One", themes=[pricing])
    StoryPageFactory(title="Two", themes=[pricing, onboarding])
    html = client.get("/").content.decode()
    assert re.search(r'href="/themes/pricing/">Pricing <span class="count"[^>]*>2</span>', html)
    assert re.search(r'href="/themes/onboarding/">Onboarding <span class="count"[^>]*>1</span>', html)


def test_home_ranks_most_helpful_stories_by_votes(client):
    from stories.helpful import toggle_helpful_vote
    from tests.factories import UserFactory

    loved = StoryPageFactory(title="Loved by two")
    liked = StoryPageFactory(title="Liked by one")
    StoryPageFactory(title="Nobody voted")
    first, second = UserFactory(), UserFactory()
    toggle_helpful_vote(loved, first)
    toggle_helpful_vote(loved, second)
    toggle_helpful_vote(liked, first)
    html = client.get("/").content.decode()
    ranked = html.split('id="helpful-heading"')[1].split("</section>")[0]
    assert ranked.index("Loved by two") < ranked.index("Liked by one")
    assert "helped 2 people" in ranked
    assert "Nobody voted" not in ranked


def test_home_says_when_its_lists_come_from_the_database(pricing):
    StoryPageFactory(title="A recent one", themes=[pricing])
    html = Client().get("/").content.decode()  # nothing indexed yet
    assert FALLBACK_NOTICE in html
    assert "A recent one" in html.split('id="recent-heading"')[1]
    assert re.search(r'href="/themes/pricing/">Pricing <span class="count"[^>]*>1</span>', html)


def test_empty_home_invites_the_first_story(client):
    html = client.get("/").content.decode()
    assert "No stories yet." in html
    assert 'href="/share/"' in html


# --- Library ----------------------------------------------------------------------------------


def test_library_lists_newest_first_twelve_per_page_with_accessible_pagination(client):
    for number in range(14):
        set_published(StoryPageFactory(title=f"Story number {number:02d}"), days_ago(30 - number))
    first_page = client.get("/stories/").content.decode()
    assert titles_in(first_page)[:2] == ["Story number 13", "Story number 12"]
    assert len(titles_in(first_page)) == 12
    assert '<nav class="pagination-nav" aria-label="Library pages">' in first_page
    assert 'aria-current="page" aria-label="Page 1, current page"' in first_page
    assert 'href="?page=2" rel="next"' in first_page

    second_page = client.get("/stories/?page=2").content.decode()
    assert titles_in(second_page) == ["Story number 01", "Story number 00"]
    assert 'href="?page=1" rel="prev"' in second_page


def test_library_pagination_keeps_the_filters_in_its_links(client, pricing):
    for number in range(13):
        StoryPageFactory(title=f"Priced {number}", themes=[pricing])
    html = client.get("/stories/?theme=pricing").content.decode()
    assert 'href="?theme=pricing&amp;page=2" rel="next"' in html


def test_library_out_of_range_page_shows_the_last_page(client):
    StoryPageFactory(title="Only story")
    response = client.get("/stories/?page=99")
    assert response.status_code == 200
    assert titles_in(response.content.decode()) == ["Only story"]


def test_library_filters_by_theme(client, pricing, onboarding):
    StoryPageFactory(title="About prices", themes=[pricing])
    StoryPageFactory(title="About newcomers", themes=[onboarding])
    html = client.get("/stories/?theme=pricing").content.decode()
    assert titles_in(html) == ["About prices"]
    assert "1 story match" in html
    assert 'aria-label="Remove filter Theme: Pricing"' in html  # removable chip
    assert facet_boxes(html)["theme"] == {
        "pricing": ("Pricing", 1, True),
        "onboarding": ("Onboarding", 1, False),
    }
    assert FALLBACK_NOTICE not in html


def test_library_several_themes_show_stories_with_any_of_them(client, pricing, onboarding):
    StoryPageFactory(title="About prices", themes=[pricing])
    StoryPageFactory(title="About newcomers", themes=[onboarding])
    StoryPageFactory(title="About nothing")
    html = client.get("/stories/?theme=pricing&theme=onboarding").content.decode()
    assert sorted(titles_in(html)) == ["About newcomers", "About prices"]
    assert "2 stories match" in html
    assert 'href="/stories/?theme=onboarding" aria-label="Remove filter Theme: Pricing"' in html


def test_library_person_filter_finds_stories_they_told_and_helped_in(client, ada, grace):
    StoryPageFactory(title="Told by Ada", teller=ada)
    StoryPageFactory(title="Ada helped", teller=grace, people=[ada])
    StoryPageFactory(title="Grace alone", teller=grace)
    html = client.get("/stories/?person=ada-lovelace").content.decode()
    assert sorted(titles_in(html)) == ["Ada helped", "Told by Ada"]


def test_library_filters_by_outcome_and_year_together(client, time_saved):
    StoryPageFactory(title="Saved time in 2024", outcome_types=[time_saved], occurred_on=dt.date(2024, 3, 1))
    StoryPageFactory(title="Saved time in 2025", outcome_types=[time_saved], occurred_on=dt.date(2025, 3, 1))
    StoryPageFactory(title="Other 2024", occurred_on=dt.date(2024, 5, 1))
    html = client.get("/stories/?outcome=time-saved&year=2024").content.decode()
    assert titles_in(html) == ["Saved time in 2024"]
    assert facet_boxes(html)["year"] == {"2025": ("2025", 1, False), "2024": ("2024", 1, True)}


def test_library_filter_controls_offer_every_theme_person_outcome_and_year(client, pricing, ada, time_saved):
    StoryPageFactory(
        title="Full",
        themes=[pricing],
        teller=ada,
        outcome_types=[time_saved],
        occurred_on=dt.date(2023, 1, 2),
    )
    html = client.get("/stories/").content.decode()
    assert [legend for legend in re.findall(r"<legend>([^<]+)</legend>", html)] == [
        "Theme",
        "Person",
        "Outcome",
        "Year",
    ]
    assert facet_boxes(html) == {
        "theme": {"pricing": ("Pricing", 1, False)},
        "person": {"ada-lovelace": ("Ada Lovelace", 1, False)},
        "outcome": {"time-saved": ("Time saved", 1, False)},
        "year": {"2023": ("2023", 1, False)},
    }
    assert '<label for="library-sort">Sort by</label>' in html


def test_library_sorts_by_most_helpful(client):
    for title, helpful in (("Helped one", 1), ("Helped three", 3), ("Helped two", 2)):
        story = StoryPageFactory(title=title)
        StoryPage.objects.filter(pk=story.pk).update(helpful_count=helpful)
    html = client.get("/stories/?sort=helpful").content.decode()
    assert titles_in(html) == ["Helped three", "Helped two", "Helped one"]
    assert '<option value="helpful" selected>Most helpful</option>' in html


def test_library_with_no_match_shows_a_helpful_empty_state(client, pricing, onboarding):
    StoryPageFactory(title="About prices", themes=[pricing])
    html = client.get("/stories/?theme=pricing&year=1999").content.decode()
    assert titles_in(html) == []
    assert "No stories match these filters." in html
    assert "Clear all filters" in html


def test_library_explains_an_unknown_theme_instead_of_showing_everything(client):
    StoryPageFactory(title="Some story")
    html = client.get("/stories/?theme=no-such-theme").content.decode()
    assert titles_in(html) == []
    assert "There is no theme “no-such-theme”." in html
    assert '<a href="/stories/">Leave it out</a>' in html


def test_library_lists_from_the_database_while_the_index_is_unavailable_and_says_so(pricing, onboarding):
    StoryPageFactory(title="About prices", themes=[pricing])
    StoryPageFactory(title="About newcomers", themes=[onboarding])
    html = Client().get("/stories/?theme=pricing&theme=onboarding").content.decode()  # nothing indexed yet
    assert FALLBACK_NOTICE in html
    assert sorted(titles_in(html)) == ["About newcomers", "About prices"]
    assert facet_boxes(html)["theme"] == {
        "onboarding": ("Onboarding", 1, True),
        "pricing": ("Pricing", 1, True),
    }


def test_empty_library_says_so(client):
    html = client.get("/stories/").content.decode()
    assert "The library is empty" in html


# --- Story page -------------------------------------------------------------------------------


def test_story_page_shows_every_field(client, pricing, time_saved, ada, grace):
    story = StoryPageFactory(
        title="Pricing page rewrite",
        teller=ada,
        people=[grace],
        themes=[pricing],
        outcome_types=[time_saved],
        context="Prospects kept asking the same question.",
        aha="The price table answered the wrong question.",
        outcome="Calls got shorter.",
        impact_value="12.50",
        impact_unit="hours saved a week",
        occurred_on=dt.date(2025, 6, 3),
        body=[
            ("paragraph", RichText("<p>We rewrote the <b>whole</b> page.</p>")),
            ("quote", {"quote": "Why did nobody tell us?", "attribution": "A customer"}),
        ],
    )
    html = client.get(story.url).content.decode()
    assert '<h1 id="story-title">Pricing page rewrite</h1>' in html
    assert "Prospects kept asking the same question." in html
    assert "The price table answered the wrong question." in html
    assert "Calls got shorter." in html
    assert "12.5 hours saved a week" in html
    assert '<time datetime="2025-06-03">3 June 2025</time>' in html
    assert "We rewrote the <b>whole</b> page." in html
    assert "Why did nobody tell us?" in html and "— A customer" in html
    assert 'Told by <a href="/people/ada-lovelace/">Ada Lovelace</a>' in html
    assert '<a href="/people/grace-hopper/">Grace Hopper</a>' in html
    assert '<a class="tag" href="/themes/pricing/">Pricing</a>' in html
    assert '<a class="tag tag--outcome" href="/outcomes/time-saved/">Time saved</a>' in html
    assert "Staff only" not in html


def test_staff_only_story_carries_a_visibility_badge(signed_in_client):
    story = StoryPageFactory(title="Internal", visibility="staff")
    html = signed_in_client.get(story.url).content.decode()
    assert '<span class="badge badge--staff"' in html


def test_story_with_audio_clip_shows_player_and_clickable_timed_transcript(client):
    story = StoryPageFactory(title="Told aloud")
    attach_clip(story)
    add_transcript(story, [(0.0, 4.2, "It started with a question."), (83.0, 88.5, "Then it clicked.")])
    html = client.get(story.url).content.decode()
    assert re.search(
        r'<audio class="clip-player[^"]*" controls preload="metadata"\s+src="/media/clips/[A-Za-z0-9]+\.webm"',
        html,
    )
    assert '<li data-start="83" data-end="88.5">' in html
    assert (
        '<a href="?t=83"><span class="time">1:23</span> <span class="text">Then it clicked.</span></a>'
        in html
    )
    assert "stories/js/transcript-player.js" in html
    assert "data-start-time" not in html


def test_story_link_with_t_passes_the_start_time_to_the_player(client):
    story = StoryPageFactory(title="Jump in")
    attach_clip(story)
    add_transcript(story, [(0.0, 4.0, "Start."), (83.0, 86.0, "The moment.")])
    html = client.get(f"{story.url}?t=83").content.decode()
    assert 'data-start-time="83"' in html
    assert re.search(r'src="/media/clips/[^"]+#t=83"', html)  # media fragment for players without JS
    assert "Starts at 1:23" in html


@pytest.mark.parametrize(("given", "expected"), [("1m23s", "83"), ("1:23", "83"), ("83.5", "83.5")])
def test_story_link_accepts_readable_start_times(client, given, expected):
    story = StoryPageFactory(title="Readable times")
    attach_clip(story)
    html = client.get(f"{story.url}?t={given}").content.decode()
    assert f'data-start-time="{expected}"' in html


def test_story_link_ignores_a_malformed_start_time(client):
    story = StoryPageFactory(title="Bad time")
    attach_clip(story)
    response = client.get(f"{story.url}?t=soon")
    assert response.status_code == 200
    assert "data-start-time" not in response.content.decode()


def test_video_clip_gets_webvtt_captions_track_from_the_transcript(client):
    story = StoryPageFactory(title="On camera")
    attach_clip(story, kind=Clip.MediaKind.VIDEO, name="clip.mp4")
    add_transcript(story, [(1.0, 3.0, "Hello there.")])
    html = client.get(story.url).content.decode()
    assert "<video" in html
    assert f'<track kind="captions" src="/stories/{story.pk}/transcript.vtt?inline=1"' in html


def test_story_offers_transcript_downloads_in_three_formats(client):
    story = StoryPageFactory(title="Downloadable")
    attach_clip(story)
    add_transcript(story, [(0.0, 1.0, "Words.")])
    html = client.get(story.url).content.decode()
    for extension in ("txt", "vtt", "srt"):
        assert (
            f'href="/stories/{story.pk}/transcript.{extension}" download="downloadable.{extension}"' in html
        )


def test_story_page_links_previous_and_next_in_library_order(client):
    older = set_published(StoryPageFactory(title="Older story"), days_ago(3))
    middle = set_published(StoryPageFactory(title="Middle story"), days_ago(2))
    newer = set_published(StoryPageFactory(title="Newer story"), days_ago(1))
    html = client.get(middle.url).content.decode()
    assert re.search(rf'rel="prev" href="{newer.url}">.*Newer story', html)
    assert re.search(rf'rel="next" href="{older.url}">.*Older story', html)
    newest_html = client.get(newer.url).content.decode()
    assert 'rel="prev"' not in newest_html


def test_story_page_shows_related_stories_on_shared_themes(client, pricing, onboarding):
    story = StoryPageFactory(title="Main story", themes=[pricing])
    StoryPageFactory(title="Also about pricing", themes=[pricing])
    StoryPageFactory(title="About onboarding", themes=[onboarding])
    html = client.get(story.url).content.decode()
    related = html.split('id="related-heading"')[1]
    assert "Also about pricing" in related


# --- Themes, outcomes, people -----------------------------------------------------------------


def test_theme_page_lists_its_stories_and_who_knows_about_it(client, pricing, ada, grace):
    StoryPageFactory(title="Ada on prices", themes=[pricing], teller=ada)
    StoryPageFactory(title="Ada again", themes=[pricing], teller=ada, people=[grace])
    StoryPageFactory(title="Not about prices", teller=grace)
    html = client.get("/themes/pricing/").content.decode()
    assert "<h1>Pricing</h1>" in html
    assert "How we set and explain prices." in html
    assert sorted(titles_in(html)) == ["Ada again", "Ada on prices"]
    experts = html.split('id="experts-heading"')[1]
    assert experts.index("Ada Lovelace") < experts.index("Grace Hopper")
    assert "2 stories" in experts
    assert 'href="/feeds/themes/pricing/"' in html


def test_theme_page_pages_through_its_stories_and_counts_staff_only_ones_for_staff(
    client, signed_in_client, pricing
):
    from stories.models import Visibility

    for number in range(12):
        set_published(StoryPageFactory(title=f"Priced {number:02d}", themes=[pricing]), days_ago(30 - number))
    StoryPageFactory(title="Staff-only prices", themes=[pricing], visibility=Visibility.STAFF)
    StoryPageFactory(title="Public but elsewhere")
    first_page = client.get("/themes/pricing/").content.decode()
    assert "12 stories" in first_page
    assert len(titles_in(first_page)) == 12
    assert "Staff-only prices" not in first_page
    apply_pending_updates()
    staff_page = signed_in_client.get("/themes/pricing/").content.decode()
    assert "13 stories" in staff_page
    assert titles_in(staff_page)[0] == "Staff-only prices"
    assert 'href="?page=2" rel="next"' in staff_page
    assert titles_in(signed_in_client.get("/themes/pricing/?page=2").content.decode()) == ["Priced 00"]


def test_unknown_or_unapproved_theme_page_is_not_found(client):
    from tests.factories import ThemeFactory

    ThemeFactory(name="Proposed idea", is_approved=False)
    assert client.get("/themes/nothing/").status_code == 404
    assert client.get("/themes/proposed-idea/").status_code == 404


def test_outcome_page_lists_its_stories(client, time_saved, pricing):
    StoryPageFactory(title="Faster close", outcome_types=[time_saved], themes=[pricing])
    StoryPageFactory(title="Other outcome", outcome_types=[OutcomeTypeFactory(name="Revenue won")])
    html = client.get("/outcomes/time-saved/").content.decode()
    assert "<h1>Time saved</h1>" in html
    assert titles_in(html) == ["Faster close"]
    assert "Pricing (1)" in html


def test_people_directory_lists_everyone_with_stories(client, ada, grace):
    PersonFactory(name="Nobody Yet")
    StoryPageFactory(title="Ada's", teller=ada, people=[grace])
    html = client.get("/people/").content.decode()
    assert '<a href="/people/ada-lovelace/">Ada Lovelace</a>' in html
    assert '<a href="/people/grace-hopper/">Grace Hopper</a>' in html
    assert "Nobody Yet" not in html


def test_people_directory_ranks_who_knows_about_a_theme(client, pricing, onboarding, ada, grace):
    StoryPageFactory(title="G1", themes=[pricing], teller=grace)
    StoryPageFactory(title="G2", themes=[pricing], teller=ada, people=[grace])
    StoryPageFactory(title="G3", themes=[pricing], teller=grace)
    StoryPageFactory(title="A1", themes=[onboarding], teller=ada)
    html = client.get("/people/?theme=pricing").content.decode()
    assert "<h1>Who knows about Pricing</h1>" in html
    ranking = html.split('class="people-ranking"')[1]
    assert ranking.index("Grace Hopper") < ranking.index("Ada Lovelace")
    assert (
        '<a href="/stories/?theme=pricing&amp;person=grace-hopper"><strong>3 stories</strong> on Pricing</a>'
        in ranking
    )
    assert "<strong>1 story</strong> on Pricing" in ranking
    assert "2 told · 1 helped" in ranking


def test_people_directory_theme_without_stories_has_an_empty_state(client, onboarding):
    html = client.get("/people/?theme=onboarding").content.decode()
    assert "Nobody has a story on Onboarding yet." in html


def test_person_page_shows_stories_told_helped_strengths_and_themes(client, ada, grace, pricing, onboarding):
    ada.strengths.add("Forecasting", "SQL")
    ada.save()
    StoryPageFactory(title="Ada told this", teller=ada, themes=[pricing])
    StoryPageFactory(title="Ada told that", teller=ada, themes=[pricing, onboarding])
    StoryPageFactory(title="Ada helped Grace", teller=grace, people=[ada], themes=[onboarding])
    html = client.get("/people/ada-lovelace/").content.decode()
    assert "<h1>Ada Lovelace</h1>" in html
    assert "Analyst · Finance" in html
    told = html.split('id="told-heading"')[1].split('id="helped-heading"')[0]
    helped = html.split('id="helped-heading"')[1].split('id="ask-heading"')[0]
    assert sorted(titles_in(told)) == ["Ada told that", "Ada told this"]
    assert titles_in(helped) == ["Ada helped Grace"]
    ask = html.split('id="ask-heading"')[1]
    assert "Forecasting" in ask and "SQL" in ask
    assert (
        '<a href="/stories/?person=ada-lovelace&amp;theme=onboarding">Onboarding</a> <span class="count">2 stories</span>'
        in ask
    )
    assert (
        '<a href="/stories/?person=ada-lovelace&amp;theme=pricing">Pricing</a> <span class="count">2 stories</span>'
        in ask
    )


def test_unknown_person_page_is_not_found(client):
    assert client.get("/people/nobody-at-all/").status_code == 404


def test_story_pages_never_serve_unpublished_changes(client):
    story = StoryPageFactory(title="Published title")
    story.title = "Draft title not yet approved"
    story.save_revision()
    html = client.get(StoryPage.objects.get(pk=story.pk).url).content.decode()
    assert "Published title" in html
    assert "Draft title not yet approved" not in html


def test_editor_preview_renders_a_draft_with_its_transcript(signed_in_client):
    draft = StoryPageFactory(title="Draft under review", publish=False)
    draft = StoryPage.objects.get(pk=draft.pk)
    add_transcript(draft, [(2.0, 3.0, "Draft words.")])
    response = draft.make_preview_request()
    html = response.rendered_content if hasattr(response, "rendered_content") else response.content.decode()
    assert "Draft under review" in html
    assert "Draft words." in html


def test_editor_preview_renders_a_story_never_saved():
    from stories.models import StoryIndexPage

    story = StoryPage(title="Brand new", aha="A first aha.", consent=True)
    story.set_url_path(StoryIndexPage.objects.get())
    response = story.make_preview_request()
    html = response.rendered_content if hasattr(response, "rendered_content") else response.content.decode()
    assert "Brand new" in html and "A first aha." in html


def test_story_page_shows_cover_and_body_images_with_their_alt_text(client):
    from wagtail_factories import ImageFactory

    cover = ImageFactory(title="Cover", description="A whiteboard full of arrows")
    sketch = ImageFactory(title="Sketch", description="The first rough sketch")
    story = StoryPageFactory(
        title="Illustrated",
        cover_image=cover,
        body=[("image", {"image": sketch, "caption": "Where it started"})],
    )
    html = client.get(story.url).content.decode()
    assert re.search(
        r'<img alt="A whiteboard full of arrows" class="story-cover"[^>]*src="/media/images/', html
    )
    assert re.search(r'<img alt="The first rough sketch"[^>]*src="/media/images/', html)
    assert "<figcaption>Where it started</figcaption>" in html
    card = client.get("/stories/").content.decode()
    assert re.search(r'<img alt="" class="story-card__image"', card)
