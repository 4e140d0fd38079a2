"""The search-index queue in the Wagtail admin (Reports → Search index queue), for editors to look at.

Parked updates (refused SEARCH_UPDATE_MAX_ATTEMPTS times) show here with their last error; once the
cause is fixed, `manage.py search_index retry` gives them a fresh round of attempts.
"""

from __future__ import annotations

import django_filters
from django.urls import reverse
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import BooleanRadioSelect
from wagtail.permissions import register_permission_policy

from search.models import PendingIndexUpdate
from stories.permissions import EditorsMayViewPolicy


class StoryColumn(Column):
    def get_value(self, instance):
        return format_html(
            '<a href="{}">Story {}</a>',
            reverse("wagtailadmin_pages:edit", args=[instance.story_id]),
            instance.story_id,
        )


class LastErrorColumn(Column):
    def get_value(self, instance):
        error = instance.last_error
        return error if len(error) <= 200 else f"{error[:200]}…"


class PendingIndexUpdateFilterSet(WagtailFilterSet):
    parked = django_filters.BooleanFilter(
        field_name="parked_at", lookup_expr="isnull", exclude=True, label="Parked", widget=BooleanRadioSelect
    )

    class Meta:
        model = PendingIndexUpdate
        fields = ["parked"]


class PendingIndexUpdateViewSet(ModelViewSet):
    model = PendingIndexUpdate
    icon = "search"
    menu_label = "Search index queue"
    menu_name = "search-index-queue"
    menu_hook = "register_reports_menu_item"
    menu_order = 1300
    copy_view_enabled = False
    inspect_view_enabled = False
    filterset_class = PendingIndexUpdateFilterSet
    form_fields = ["reason"]  # required by ModelViewSet; the policy allows no editing
    ordering = ["pk"]
    list_display = [
        StoryColumn("story_id", label="Story"),
        Column("reason", label="Why"),
        Column("state", label="State"),
        Column("attempts", label="Attempts"),
        DateColumn("next_attempt_at", label="Next attempt"),
        DateColumn("parked_at", label="Parked"),
        LastErrorColumn("last_error", label="Last error"),
        DateColumn("created_at", label="Queued"),
    ]


register_permission_policy(PendingIndexUpdate, EditorsMayViewPolicy(PendingIndexUpdate))


@hooks.register("register_admin_viewset")
def register_pending_index_update_viewset():
    return PendingIndexUpdateViewSet("search_index_queue")
