"""Signal handlers that queue index updates; they never touch the index itself.

Each handler adds PendingIndexUpdate rows in the same transaction as the editor's change (or the
bulk write: imports announce what they wrote with `stories_written_in_bulk`), so a search outage
cannot fail a publish and an update cannot be lost; the worker applies them.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save, pre_delete
from wagtail.models import Page, PageViewRestriction
from wagtail.signals import page_published, page_slug_changed, page_unpublished, post_page_move

from search.sync import enqueue_stories
from stories.models import HelpfulVote, OutcomeType, Person, StoryPage, Theme
from stories.signals import stories_written_in_bulk


def story_ids_under(page: Page) -> list[int]:
    """The page itself if it is a story, and every story below it (their URLs follow it)."""
    return list(
        StoryPage.objects.filter(path__startswith=page.path, depth__gte=page.depth).values_list(
            "pk", flat=True
        )
    )


def story_published(sender, instance, **kwargs):
    enqueue_stories([instance.pk], "published")


def story_unpublished(sender, instance, **kwargs):
    enqueue_stories([instance.pk], "unpublished")


def story_deleted(sender, instance, **kwargs):
    enqueue_stories([instance.pk], "deleted")


def page_moved(sender, instance, **kwargs):
    enqueue_stories(story_ids_under(instance), "moved")


def page_url_changed(sender, instance, **kwargs):
    enqueue_stories(story_ids_under(instance), "url changed")


def view_restriction_changed(sender, instance, **kwargs):
    page = Page.objects.filter(pk=instance.page_id).first()
    if page is not None:
        enqueue_stories(story_ids_under(page), "view restriction")


def vocabulary_stories(instance) -> list[int]:
    """Stories whose document shows this theme, outcome type or person."""
    if isinstance(instance, Theme):
        queryset = StoryPage.objects.filter(themes=instance)
    elif isinstance(instance, OutcomeType):
        queryset = StoryPage.objects.filter(outcome_types=instance)
    else:
        queryset = StoryPage.objects.filter(teller=instance) | StoryPage.objects.filter(people=instance)
    return list(queryset.values_list("pk", flat=True).distinct())


def vocabulary_saved(sender, instance, created, **kwargs):
    if not created:
        enqueue_stories(vocabulary_stories(instance), f"{sender._meta.model_name} changed")


def vocabulary_deleting(sender, instance, **kwargs):
    # Read the stories before the delete clears the links.
    enqueue_stories(vocabulary_stories(instance), f"{sender._meta.model_name} deleted")


def helpful_vote_changed(sender, instance, **kwargs):
    enqueue_stories([instance.story_id], "helpful vote")


def stories_written(sender, story_ids, **kwargs):
    enqueue_stories(story_ids, "bulk write")


def connect() -> None:
    page_published.connect(story_published, sender=StoryPage, dispatch_uid="search_story_published")
    page_unpublished.connect(story_unpublished, sender=StoryPage, dispatch_uid="search_story_unpublished")
    post_delete.connect(story_deleted, sender=StoryPage, dispatch_uid="search_story_deleted")
    post_page_move.connect(page_moved, dispatch_uid="search_page_moved")
    page_slug_changed.connect(page_url_changed, dispatch_uid="search_page_slug_changed")
    post_save.connect(
        view_restriction_changed, sender=PageViewRestriction, dispatch_uid="search_restriction_saved"
    )
    post_delete.connect(
        view_restriction_changed, sender=PageViewRestriction, dispatch_uid="search_restriction_deleted"
    )
    for model in (Theme, OutcomeType, Person):
        name = model._meta.model_name
        post_save.connect(vocabulary_saved, sender=model, dispatch_uid=f"search_{name}_saved")
        pre_delete.connect(vocabulary_deleting, sender=model, dispatch_uid=f"search_{name}_deleting")
    post_save.connect(helpful_vote_changed, sender=HelpfulVote, dispatch_uid="search_helpful_vote_saved")
    post_delete.connect(helpful_vote_changed, sender=HelpfulVote, dispatch_uid="search_helpful_vote_deleted")
    stories_written_in_bulk.connect(stories_written, dispatch_uid="search_stories_written_in_bulk")
