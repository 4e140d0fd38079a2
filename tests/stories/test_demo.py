"""load_demo: a realistic library on first start, and nothing new on every start after."""

import io

import pytest
from django.core.management import call_command
from django.db.models import Count
from PIL import Image as PILImage
from wagtail.images import get_image_model
from wagtail.models import WorkflowState

from stories.demo import OUTCOME_TYPES, THEMES, draw_cover, fixture
from stories.importing import record_columns
from stories.models import HelpfulVote, OutcomeType, Person, StoryPage, Theme

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("load_demo", "--skip-search-index", stdout=io.StringIO())


def test_demo_meets_the_promised_counts(demo):
    stories = StoryPage.objects.all()
    live = stories.filter(live=True)

    assert live.count() >= 40
    assert Person.objects.exclude(role="").exclude(team="").exclude(bio="").count() >= 15
    assert all(person.strengths.exists() for person in Person.objects.filter(email__endswith="@example.org"))
    assert set(THEMES) <= set(Theme.objects.values_list("name", flat=True))
    assert set(OUTCOME_TYPES) <= set(OutcomeType.objects.values_list("name", flat=True))
    assert live.filter(visibility="staff").count() >= 3
    assert 1 <= live.filter(featured=True).count() <= 6
    assert live.filter(impact_value__isnull=False).count() >= 30
    years = {story.occurred_on.year for story in live}
    assert len(years) >= 4


def test_every_demo_story_is_publishable_and_has_a_cover(demo):
    for story in StoryPage.objects.filter(live=True):
        assert story.publish_problems() == []
        assert story.teller is not None
        assert story.context and story.aha and story.outcome
        assert story.cover_image is not None and story.cover_image.description
        assert story.live_revision is not None and not story.has_unpublished_changes


def test_helpful_counts_match_real_votes(demo):
    counted = StoryPage.objects.annotate(votes=Count("helpful_votes"))

    assert all(story.helpful_count == story.votes for story in counted)
    assert max(story.helpful_count for story in counted) >= 20
    assert HelpfulVote.objects.count() > 100


def test_two_demo_drafts_wait_in_editorial_review(demo):
    waiting = [story for story in StoryPage.objects.all() if story.current_workflow_state]

    assert len(waiting) == 2
    assert all(story.current_workflow_state.status == WorkflowState.STATUS_IN_PROGRESS for story in waiting)
    assert not any(story.live for story in waiting)


def test_loading_the_demo_again_creates_nothing(demo):
    counts = (StoryPage.objects.count(), Person.objects.count(), get_image_model().objects.count())
    out = io.StringIO()

    call_command("load_demo", "--skip-search-index", stdout=out)

    assert "already loaded" in out.getvalue()
    assert (StoryPage.objects.count(), Person.objects.count(), get_image_model().objects.count()) == counts


def test_demo_fills_in_only_missing_stories_and_keeps_editors_changes(demo):
    edited = StoryPage.objects.get(external_id="demo-001")
    StoryPage.objects.filter(pk=edited.pk).update(title="Edited by an editor")
    StoryPage.objects.filter(external_id="demo-002").delete()

    call_command("load_demo", "--skip-search-index", stdout=io.StringIO())

    assert StoryPage.objects.get(external_id="demo-001").title == "Edited by an editor"
    assert StoryPage.objects.filter(external_id="demo-002").count() == 1
    assert StoryPage.objects.filter(external_id__startswith="demo-").count() == 45


def test_covers_are_pleasant_abstract_images_in_theme_colours():
    first = PILImage.open(io.BytesIO(draw_cover("Innovation", "a")))
    other = PILImage.open(io.BytesIO(draw_cover("Remote collaboration", "a")))

    assert first.size == (1200, 630) and first.format == "JPEG"
    red, green, blue = first.resize((1, 1)).getpixel((0, 0))
    assert red > blue  # Innovation is warm
    red, green, blue = other.resize((1, 1)).getpixel((0, 0))
    assert blue > red  # Remote collaboration is cool


def test_each_demo_story_has_one_revision_that_shows_its_cover(demo):
    for story in StoryPage.objects.filter(external_id__startswith="demo-"):
        assert story.revisions.count() == 1
        assert story.latest_revision.content["cover_image"] == story.cover_image_id is not None
        assert story.latest_revision.as_object().helpful_count == story.helpful_count


def test_demo_stories_are_data_in_the_importers_format():
    stories = fixture("stories")

    assert len(stories) == 45 and len(fixture("people")) == 18
    assert [story["external_id"] for story in stories if story.get("in_review")] == ["demo-043", "demo-044"]
    assert all(set(story) - {"helpful", "in_review"} <= set(record_columns()) for story in stories)
