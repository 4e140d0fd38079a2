"""Curating stories in the Wagtail admin: the tabbed editor, the publishing rule, permissions, snippets."""

import re

import pytest
from django.urls import reverse
from wagtail.test.utils.form_data import inline_formset, nested_form_data, streamfield

from stories.models import Person, StoryPage, Theme
from tests.factories import (
    PersonFactory,
    StoryPageFactory,
    ThemeFactory,
    library,
    make_clip,
    make_editor,
    make_storyteller,
)

pytestmark = pytest.mark.django_db


def story_form(story, *, themes=(), consent=True, action=None, **overrides):
    """The editor's form as a browser posts it (every tab), with the chosen button."""
    data = {
        "title": story.title,
        "slug": story.slug,
        "context": story.context,
        "aha": story.aha,
        "outcome": story.outcome,
        "impact_value": "",
        "impact_unit": "",
        "occurred_on": "",
        "body": streamfield([]),
        "visibility": "public",
        "source": "admin",
        "transcript_segments": inline_formset([]),
        "comments": inline_formset([]),
        "seo_title": "",
        "search_description": "",
    }
    if consent:
        data["consent"] = "on"
    data.update(overrides)
    form = nested_form_data(data)
    form["themes"] = [theme.pk for theme in themes]
    if action == "publish":
        form["action-publish"] = "action-publish"
    return form


def edit_url(story):
    return reverse("wagtailadmin_pages:edit", args=(story.pk,))


def test_editor_shows_the_four_tabs_and_the_story_fields(client):
    client.force_login(make_editor())
    ThemeFactory(name="Pricing")  # so the themes tab has a box to tick
    story = StoryPageFactory(publish=False)

    response = client.get(edit_url(story))

    html = response.content.decode()
    assert response.status_code == 200
    tabs = re.findall(r'<a id="tab-label-([\w-]+)"[^>]*role="tab"[^>]*>\s*([^<]+?)\s*<', html)
    assert tabs == [
        ("story", "Story"),
        ("people_themes", "People &amp; themes"),
        ("media_transcript", "Media &amp; transcript"),
        ("settings", "Settings"),
    ]
    fields = (
        "id_context",
        "id_aha",
        "id_outcome",
        "id_themes_0",
        "id_consent",
        "id_visibility",
        "id_featured",
        "id_slug",
    )
    for field in fields:
        assert len(re.findall(rf'\bid="{field}"', html)) == 1, field
    the_story = html.index(">The story<")
    assert (
        the_story < html.index('id="id_context"') < html.index('id="id_aha"') < html.index('id="id_outcome"')
    )


def test_clip_plays_beside_the_transcript_in_the_editor(client):
    client.force_login(make_editor())
    clip = make_clip()
    story = StoryPageFactory(publish=False, clip=clip)
    story.transcript_segments.create(start=0.0, end=3.2, text="We asked the network.")
    story.save_revision()

    html = client.get(edit_url(story)).content.decode()

    assert f'<audio controls preload="metadata" src="{clip.file.url}"' in html
    assert "We asked the network." in html
    assert "stories/js/admin_clip_player.js" in html


def test_video_clip_gets_a_video_player(client):
    client.force_login(make_editor())
    clip = make_clip(media_kind="video", name="story.webm")
    story = StoryPageFactory(publish=False, clip=clip)

    html = client.get(edit_url(story)).content.decode()

    assert f'<video controls preload="metadata" src="{clip.file.url}"' in html


def test_publishing_without_a_theme_is_refused_with_a_message(client):
    client.force_login(make_editor())
    story = StoryPageFactory(publish=False)

    response = client.post(edit_url(story), story_form(story, action="publish"), follow=True)

    assert "Choose at least one theme before publishing" in response.content.decode()
    assert not StoryPage.objects.get(pk=story.pk).live


def test_publishing_without_consent_is_refused_with_a_message(client):
    client.force_login(make_editor())
    story = StoryPageFactory(publish=False)

    response = client.post(
        edit_url(story),
        story_form(story, themes=[ThemeFactory()], consent=False, action="publish"),
        follow=True,
    )

    assert "the teller agreed to publish" in response.content.decode()
    assert "no story goes live without its teller" in response.content.decode()
    assert not StoryPage.objects.get(pk=story.pk).live


def test_saving_a_draft_without_theme_or_consent_works(client):
    client.force_login(make_editor())
    story = StoryPageFactory(publish=False)

    response = client.post(edit_url(story), story_form(story, consent=False, aha="Drafted, not done."))

    assert response.status_code == 302
    saved = StoryPage.objects.get(pk=story.pk)
    assert not saved.live
    assert saved.get_latest_revision_as_object().aha == "Drafted, not done."


def test_editor_publishes_a_story_with_theme_and_consent(client):
    client.force_login(make_editor())
    story = StoryPageFactory(publish=False)
    theme = ThemeFactory(name="Working out loud")

    response = client.post(edit_url(story), story_form(story, themes=[theme], action="publish"))

    assert response.status_code == 302
    published = StoryPage.objects.get(pk=story.pk)
    assert published.live
    assert published.theme_names == ["Working out loud"]


def test_storyteller_cannot_publish(client):
    storyteller = make_storyteller()
    client.force_login(storyteller)
    story = StoryPageFactory(publish=False)

    assert not story.permissions_for_user(storyteller).can_publish()
    client.post(edit_url(story), story_form(story, themes=[ThemeFactory()], action="publish"))

    assert not StoryPage.objects.get(pk=story.pk).live


def test_storyteller_can_edit_their_own_story_draft(client):
    storyteller = make_storyteller()
    client.force_login(storyteller)
    story = StoryPageFactory(publish=False, owner=storyteller)

    response = client.post(edit_url(story), story_form(story, aha="A better aha."))

    assert response.status_code == 302
    assert StoryPage.objects.get(pk=story.pk).get_latest_revision_as_object().aha == "A better aha."


def test_editor_can_publish_under_the_library_and_storyteller_can_add():
    editor, storyteller = make_editor(), make_storyteller()

    assert library().permissions_for_user(editor).can_publish_subpage()
    assert library().permissions_for_user(storyteller).can_add_subpage()
    assert not library().permissions_for_user(storyteller).can_publish_subpage()


def test_bulk_publish_refuses_a_story_without_themes(client):
    client.force_login(make_editor())
    story = StoryPageFactory(publish=False)
    explorer = reverse("wagtailadmin_explore", args=(library().pk,))
    url = reverse("wagtail_bulk_action", args=("wagtailcore", "page", "publish"))
    url += f"?id={story.pk}&next={explorer}"

    response = client.post(url, {}, follow=True)

    assert "Choose at least one theme before publishing" in response.content.decode()
    assert not StoryPage.objects.get(pk=story.pk).live


def test_people_listing_filters_by_team_and_review(client):
    client.force_login(make_editor())
    PersonFactory(name="Ana Sales", team="Sales", needs_review=True)
    PersonFactory(name="Bo Support", team="Support")
    url = reverse(Person.snippet_viewset.get_url_name("list"))

    by_team = client.get(url, {"team": "Sales"}).content.decode()
    to_review = client.get(url, {"needs_review": "true"}).content.decode()

    assert "Ana Sales" in by_team and "Bo Support" not in by_team
    assert "Ana Sales" in to_review and "Bo Support" not in to_review


def test_editor_approves_proposed_themes_in_bulk(client):
    client.force_login(make_editor())
    proposed = [
        ThemeFactory(name="Hackathons", is_approved=False),
        ThemeFactory(name="Mentoring", is_approved=False),
    ]
    url = reverse("wagtail_bulk_action", args=("stories", "theme", "approve_themes"))
    listing = reverse(Theme.snippet_viewset.get_url_name("list"))
    url += "?" + "&".join(f"id={theme.pk}" for theme in proposed) + f"&next={listing}"

    confirm = client.get(url)
    response = client.post(url, {}, follow=True)

    assert "Hackathons" in confirm.content.decode()
    assert "2 themes approved." in response.content.decode()
    assert Theme.objects.filter(is_approved=False).count() == 0


def test_theme_listing_filters_proposed_themes(client):
    client.force_login(make_editor())
    ThemeFactory(name="Waiting theme", is_approved=False)
    ThemeFactory(name="Settled theme")
    url = reverse(Theme.snippet_viewset.get_url_name("list"))

    html = client.get(url, {"is_approved": "false"}).content.decode()

    assert "Waiting theme" in html and "Settled theme" not in html


def test_dashboard_counts_what_waits_for_an_editor(client):
    client.force_login(make_editor())
    ThemeFactory(name="Waiting theme", is_approved=False)
    PersonFactory(needs_review=True)

    html = client.get(reverse("wagtailadmin_home")).content.decode()

    assert "1 proposed theme" in html
    assert "1 person" in html
