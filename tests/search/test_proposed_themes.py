"""A theme a storyteller proposed stays out of search until an editor approves it."""

import pytest

from search.documents import story_document
from stories.models import Theme
from tests.factories import StoryPageFactory

pytestmark = pytest.mark.django_db


def test_proposed_theme_is_not_indexed_until_approved():
    approved = Theme.objects.create(name="Onboarding")
    proposed = Theme.objects.create(name="Secret project", is_approved=False)
    story = StoryPageFactory(themes=[approved, proposed])
    assert [theme["slug"] for theme in story_document(story)["themes"]] == ["onboarding"]
    proposed.is_approved = True
    proposed.save()
    assert sorted(theme["slug"] for theme in story_document(story)["themes"]) == [
        "onboarding",
        "secret-project",
    ]
