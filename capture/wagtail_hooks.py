"""Clip submissions in the Wagtail admin: editors see every clip's progress, failures, and its draft."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permissions import register_permission_policy

from capture.models import ClipSubmission
from stories.permissions import EditorsMayViewPolicy


class StatusPageColumn(Column):
    """Links to the public status page, where an editor can follow progress or retry a failure."""

    def get_value(self, instance):
        return format_html('<a href="{}">Status page</a>', instance.get_absolute_url())


class DraftColumn(Column):
    def get_value(self, instance):
        if instance.story_id is None:
            return instance.error[:120] if instance.error else "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("wagtailadmin_pages:edit", args=[instance.story_id]),
            instance.story,
        )


class ClipSubmissionViewSet(ModelViewSet):
    model = ClipSubmission
    icon = "media"
    menu_label = "Clip submissions"
    menu_order = 250
    add_to_admin_menu = True
    copy_view_enabled = False
    inspect_view_enabled = False
    list_filter = ["state", "mode"]
    form_fields = ["state"]  # required by ModelViewSet; the policy allows no editing
    list_display = [
        Column("id", label="#"),
        Column("submitter", label="Sent by"),
        Column("get_mode_display", label="Mode"),
        Column("get_state_display", label="State"),
        Column("progress", label="Progress %"),
        Column("attempts", label="Attempts"),
        DateColumn("created_at", label="Sent"),
        DraftColumn("story", label="Draft or error"),
        StatusPageColumn("status", label=""),
    ]


register_permission_policy(ClipSubmission, EditorsMayViewPolicy(ClipSubmission))


@hooks.register("register_admin_viewset")
def register_clip_submission_viewset():
    return ClipSubmissionViewSet("clip_submissions")
