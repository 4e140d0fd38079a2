"""The publishing rule lives on the story: at least one theme and the teller's consent."""

import pytest

from stories.models import StoryPage
from tests.factories import StoryPageFactory, ThemeFactory, library

pytestmark = pytest.mark.django_db


def test_story_without_theme_or_consent_lists_both_problems():
    story = StoryPageFactory(publish=False)
    story.consent = False

    problems = story.publish_problems()

    assert len(problems) == 2
    assert any("at least one theme" in problem for problem in problems)
    assert any("agreed to publish" in problem for problem in problems)


def test_story_with_theme_and_consent_has_no_problems():
    story = StoryPageFactory(publish=False, themes=[ThemeFactory()])

    assert story.publish_problems() == []


def test_problems_check_unsaved_values_from_an_editor():
    story = StoryPageFactory(publish=False)
    theme = ThemeFactory()

    assert story.publish_problems(themes=[theme], consent=True) == []
    assert story.publish_problems_by_field(themes=[], consent=True).keys() == {"themes"}
    assert story.publish_problems_by_field(themes=[theme], consent=False).keys() == {"consent"}


def test_a_draft_without_themes_or_consent_still_saves():
    story = StoryPage(title="Half an idea", consent=False, live=False)
    library().add_child(instance=story)

    story.save_revision()

    saved = StoryPage.objects.get(pk=story.pk)
    assert not saved.live
    assert saved.latest_revision is not None


def test_publish_problems_read_a_revision_with_its_themes():
    theme = ThemeFactory()
    story = StoryPageFactory(publish=False)
    story.themes.set([theme])
    story.save_revision()

    assert story.get_latest_revision_as_object().publish_problems() == []
