"""What approving a review publishes (Wagtail's WAGTAIL_FINISH_WORKFLOW_ACTION).

Wagtail imports this while its own models load, so it imports no models (`stories.visibility`
imports none either).
"""

from __future__ import annotations

from stories.visibility import is_editor


def publish_reviewed_revision(workflow_state, user=None) -> None:
    """What approving a review publishes: the revision the editors read, never a later one by the teller.

    Wagtail publishes the latest revision by default. Here that is the submitted revision, or a
    newer one only when an editor wrote it (an editor who corrects a story while approving it).
    """
    submitted = workflow_state.current_task_state.revision
    later = (
        workflow_state.content_object.revisions.filter(pk__gt=submitted.pk)
        .select_related("user")
        .order_by("-pk")
    )
    reviewed = next((revision for revision in later if is_editor(revision.user)), submitted)
    reviewed.publish(user=user)
