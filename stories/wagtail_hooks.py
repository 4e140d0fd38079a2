"""Story curation in the Wagtail admin: the vocabulary snippets, and the publishing rule's guards.

A story may only go live when `StoryPage.publish_problems()` is empty. The editor's form checks it
on "Publish" and on "Approve" from the editor; the views below check it where Wagtail publishes
without that form: approving a review from the dashboard or the workflow modal, and bulk publishing.
"""

from __future__ import annotations

import django_filters
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import ngettext
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.modal_workflow import render_modal_workflow
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import BooleanColumn
from wagtail.admin.views.pages.workflow import WorkflowActionView
from wagtail.admin.viewsets.pages import PageViewSet
from wagtail.admin.widgets import BooleanRadioSelect
from wagtail.log_actions import log
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from stories.models import OutcomeType, Person, StoryPage, Theme
from stories.permissions import EDITORS_ONLY_REPORT_MENU_NAMES, register_admin_api_endpoints
from stories.visibility import is_editor

PUBLISH_REFUSED = "\u201c{title}\u201d was not published: {problems}"


def refusal_message(story: StoryPage, problems: list[str]) -> str:
    return PUBLISH_REFUSED.format(title=story.title, problems=" ".join(problems))


class StoryWorkflowActionView(WorkflowActionView):
    """Approving a story's review publishes it, so the publishing rule is checked first."""

    def post(self, request, *args, **kwargs):
        if self.action_name == "approve":
            story = self.object.specific.get_latest_revision_as_object()
            problems = story.publish_problems()
            if problems:
                messages.error(request, refusal_message(story, problems))
                edit_url = reverse("wagtailadmin_pages:edit", args=(story.pk,))
                if request.headers.get("x-requested-with") == "XMLHttpRequest":
                    return render_modal_workflow(
                        request, "", None, {}, json_data={"step": "success", "redirect": edit_url}
                    )
                return redirect(edit_url)
        return super().post(request, *args, **kwargs)


class StoryPageViewSet(PageViewSet):
    model = StoryPage
    workflow_action_view_class = StoryWorkflowActionView


@hooks.register("register_admin_viewset")
def register_story_page_viewset():
    return StoryPageViewSet("story_pages")


@hooks.register("before_bulk_action")
def refuse_bulk_publishing_unready_stories(request, action_type, objects, action_class_instance):
    """The explorer's bulk "Publish" stops, naming each story that is not ready."""
    if action_type != "publish":
        return None
    refusals = []
    for page in objects:
        specific = page.specific
        if isinstance(specific, StoryPage):
            story = specific.get_latest_revision_as_object()
            problems = story.publish_problems()
            if problems:
                refusals.append(refusal_message(story, problems))
    if refusals:
        for refusal in refusals:
            messages.error(request, refusal)
        next_url = action_class_instance.next_url
        if not next_url or next_url == request.path:
            next_url = reverse("wagtailadmin_explore", args=(objects[0].get_parent().pk,))
        return redirect(next_url)
    return None


class ApproveThemesBulkAction(SnippetBulkAction):
    """Approve proposed themes from the theme listing: tick them, then "Approve"."""

    display_name = "Approve"
    action_type = "approve_themes"
    aria_label = "Approve the selected themes"
    template_name = "stories/admin/confirm_bulk_approve_themes.html"
    action_priority = 10
    models = [Theme]

    def check_perm(self, theme):
        return self.permission_policy.user_has_permission_for_instance(self.request.user, "change", theme)

    @classmethod
    def execute_action(cls, objects, user=None, **kwargs):
        """Save each theme, as its edit form would: its save signals reach whatever keeps copies (search)."""
        approved = 0
        for theme in Theme.objects.filter(pk__in=[theme.pk for theme in objects], is_approved=False):
            theme.is_approved = True
            theme.save(update_fields=["is_approved"])
            log(instance=theme, action="wagtail.edit", user=user)
            approved += 1
        return approved, 0

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext("%(count)d theme approved.", "%(count)d themes approved.", num_parent_objects) % {
            "count": num_parent_objects
        }


hooks.register("register_bulk_action", ApproveThemesBulkAction)


def team_choices() -> list[tuple[str, str]]:
    teams = Person.objects.exclude(team="").order_by("team").values_list("team", flat=True).distinct()
    return [(team, team) for team in teams]


class PersonFilterSet(WagtailFilterSet):
    team = django_filters.ChoiceFilter(choices=team_choices, label="Team")
    needs_review = django_filters.BooleanFilter(label="Needs review", widget=BooleanRadioSelect)

    class Meta:
        model = Person
        fields = ["team", "needs_review"]


class PersonViewSet(SnippetViewSet):
    model = Person
    icon = "user"
    menu_label = "People"
    list_display = ["name", "role", "team", BooleanColumn("needs_review", label="Needs review")]
    filterset_class = PersonFilterSet
    search_fields = ["name", "team", "role"]
    list_export = ["name", "email", "role", "team", "needs_review"]
    ordering = ["name"]


class ThemeViewSet(SnippetViewSet):
    model = Theme
    icon = "tag"
    menu_label = "Themes"
    list_display = ["name", "slug", BooleanColumn("is_approved", label="Approved"), "proposed_by"]
    list_filter = ["is_approved"]
    search_fields = ["name"]
    ordering = ["is_approved", "name"]


class OutcomeTypeViewSet(SnippetViewSet):
    model = OutcomeType
    icon = "success"
    menu_label = "Outcome types"
    list_display = ["name", "slug"]
    search_fields = ["name"]


class StoryVocabularyGroup(SnippetViewSetGroup):
    """People, themes and outcome types together under one "Story library" menu."""

    items = (PersonViewSet, ThemeViewSet, OutcomeTypeViewSet)
    menu_icon = "folder-open-inverse"
    menu_label = "Story library"
    menu_name = "story-library"
    menu_order = 250


hooks.register("register_admin_viewset", StoryVocabularyGroup)


class CurationSummaryPanel(Component):
    """On the dashboard: how many proposed themes and new people wait for an editor."""

    name = "story_curation"
    order = 50
    template_name = "stories/admin/curation_summary_panel.html"

    def __init__(self, request):
        self.request = request

    def get_context_data(self, parent_context=None):
        return {
            "proposed_themes": Theme.objects.filter(is_approved=False).count(),
            "people_to_review": Person.objects.filter(needs_review=True).count(),
            "themes_url": reverse(Theme.snippet_viewset.get_url_name("list")) + "?is_approved=false",
            "people_url": reverse(Person.snippet_viewset.get_url_name("list")) + "?needs_review=true",
        }


@hooks.register("construct_homepage_panels")
def add_curation_panel(request, panels):
    """Editors see the curation queue first on their dashboard."""
    user = request.user
    if user.has_perm("stories.change_theme") or user.has_perm("stories.change_person"):
        panels.insert(0, CurationSummaryPanel(request))


@hooks.register("construct_page_chooser_queryset")
def hide_unreadable_stories_from_page_chooser(pages, request):
    """The page chooser lists every child; drafts and staff pages of others stay out of it."""
    if is_editor(request.user):
        return pages
    hidden = StoryPage.objects.exclude(pk__in=StoryPage.objects.openable_by(request.user).values("pk"))
    # A live story of someone else with a newer draft would show that draft's title.
    drafted = StoryPage.objects.filter(has_unpublished_changes=True).exclude(owner=request.user)
    return pages.exclude(pk__in=hidden.values("pk")).exclude(pk__in=drafted.values("pk"))


@hooks.register("construct_reports_menu")
def hide_editors_reports_from_storytellers(request, menu_items):
    """The reports that name other people's pages or accounts are for editors (stories/permissions.py)."""
    if not is_editor(request.user):
        menu_items[:] = [item for item in menu_items if item.name not in EDITORS_ONLY_REPORT_MENU_NAMES]


@hooks.register("construct_admin_api", order=1000)  # after Wagtail's own registrations
def admin_api_lists_only_chooseable_files(router):
    register_admin_api_endpoints(router)
