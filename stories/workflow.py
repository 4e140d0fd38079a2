"""The "Editorial review" moderation workflow that every submitted story goes through."""

from __future__ import annotations

from wagtail.models import Workflow

EDITORIAL_REVIEW = "Editorial review"


def editorial_workflow() -> Workflow:
    """The workflow created by the stories migrations; a missing one is a deployment error."""
    return Workflow.objects.get(name=EDITORIAL_REVIEW, active=True)


def submit_for_review(story, user):
    """Start the editorial review for a draft story (a revision must exist); returns the WorkflowState.

    Wagtail sends its workflow notifications (e-mail to the Editors group) as the task starts.
    """
    if story.latest_revision is None:
        story.save_revision(user=user)
    return editorial_workflow().start(story, user)
