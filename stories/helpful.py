""" "This helped me": one vote per signed-in reader per story, toggled on and off.

The votes table is the truth; `StoryPage.helpful_count` is a cached copy kept for ordering and the
API, rewritten from the votes after every toggle and after every publish (publishing restores the
field from a revision, which may hold an older value).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from stories.models import HelpfulVote, StoryPage


def helpful_vote_count(story: StoryPage) -> int:
    return HelpfulVote.objects.filter(story=story).count()


def has_voted_helpful(story: StoryPage, user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return HelpfulVote.objects.filter(story=story, user=user).exists()


def toggle_helpful_vote(story: StoryPage, user) -> tuple[bool, int]:
    """Add this user's vote, or take it back if they had voted; returns (voted now, vote count)."""
    if user is None or not user.is_authenticated:
        raise PermissionError("Only signed-in readers can vote.")
    with transaction.atomic():
        deleted, _ = HelpfulVote.objects.filter(story=story, user=user).delete()
        voted = not deleted
        if voted:
            try:
                with transaction.atomic():
                    HelpfulVote.objects.create(story=story, user=user)
            except IntegrityError:  # a double click raced us: the vote exists, which is what they asked
                pass
        count = helpful_vote_count(story)
        StoryPage.objects.filter(pk=story.pk).update(helpful_count=count)
    return voted, count


def resync_helpful_count(sender, instance, **kwargs) -> None:
    """page_published receiver: put the cached count back in line with the votes."""
    if isinstance(instance, StoryPage):
        count = helpful_vote_count(instance)
        if instance.helpful_count != count:
            StoryPage.objects.filter(pk=instance.pk).update(helpful_count=count)
            instance.helpful_count = count
