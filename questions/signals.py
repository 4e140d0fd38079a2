"""How questions hear of stories: a draft shared from a question, and a story an editor published."""

from __future__ import annotations

from wagtail.signals import page_published

from capture.signals import story_shared
from questions.telling import close_questions_answered_by, link_shared_story
from stories.models import StoryPage


def story_shared_from_a_question(sender, story, user, origin, **kwargs):
    link_shared_story(story, user, origin)


def story_published(sender, instance, **kwargs):
    close_questions_answered_by(instance)


def connect() -> None:
    story_shared.connect(story_shared_from_a_question, dispatch_uid="questions_story_shared")
    page_published.connect(story_published, sender=StoryPage, dispatch_uid="questions_story_published")
