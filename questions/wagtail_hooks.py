"""Questions in the Wagtail admin: editors list and filter them, correct them, merge duplicates, close them.

Editors (`stories.visibility.is_editor`) may view and change questions; nobody adds or deletes
one here: colleagues ask them, and closing keeps what a question gathered. Merging and closing are
`questions.curation`'s; the views below only ask for the choice and report the outcome.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Prefetch
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import BaseObjectMixin, WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import BooleanRadioSelect, Button
from wagtail.log_actions import LogFormatter
from wagtail.permissions import policy_registry, register_permission_policy

from questions.admin_forms import MergeForm, MergeSearchForm, QuestionAdminForm
from questions.curation import (
    CLOSE_ACTION,
    MERGE_ACTION,
    CurationRefused,
    close_question_by_editor,
    duplicate_refusal,
    may_be_merged,
    merge_question,
    merge_suggestions,
    overdue_questions,
    search_merge_targets,
)
from questions.models import Answer, Question, QuestionRouting, QuestionSource, QuestionStatus
from stories.models import Person
from stories.permissions import EditorsMayViewPolicy
from stories.visibility import is_editor

OVERDUE_ON_DASHBOARD = 5


class EditorsMayCuratePolicy(EditorsMayViewPolicy):
    """Editors may list questions and change what they curate; adding and deleting are nobody's."""

    actions = frozenset({"view", "change"})

    def user_has_permission(self, user, action):
        return action in self.actions and is_editor(user)

    def users_with_any_permission(self, actions):
        if not self.actions & set(actions):
            return get_user_model().objects.none()
        return super().users_with_any_permission(["view"])


register_permission_policy(Question, EditorsMayCuratePolicy(Question))


def may_curate_questions(user) -> bool:
    return policy_registry.get_by_type(Question).user_has_permission(user, "change")


def routed_people(request):
    """The people some question was routed to: the choices of the "Routed to" filter."""
    return Person.objects.filter(question_routings__isnull=False).distinct().order_by("name")


class QuestionFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(choices=QuestionStatus.choices, label="Status")
    routed_to = django_filters.ModelChoiceFilter(
        queryset=routed_people, field_name="routings__person", distinct=True, label="Routed to"
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", widget=BooleanRadioSelect, label="Overdue (open, asked over a week ago)"
    )
    source = django_filters.ChoiceFilter(choices=QuestionSource.choices, label="Asked")

    class Meta:
        model = Question
        fields = ["status", "routed_to", "overdue", "source"]

    def filter_overdue(self, questions, name, value):
        overdue = overdue_questions(questions)
        return overdue if value else questions.exclude(pk__in=overdue.values("pk"))


class StatusColumn(Column):
    def get_value(self, instance):
        if instance.merged_into_id is not None:
            return f"Closed: merged into “{instance.merged_into}”"
        return instance.get_status_display()


class RoutedToColumn(Column):
    def get_value(self, instance):
        return ", ".join(routing.person.name for routing in instance.routings.all()) or "—"


class AnsweredByColumn(Column):
    def get_value(self, instance):
        if instance.answered_by_id is not None:
            return format_html(
                '<a href="{}">{}</a>',
                reverse("wagtailadmin_pages:edit", args=[instance.answered_by_id]),
                instance.answered_by.title,
            )
        if instance.accepted_answers:
            return f"Answer by {instance.accepted_answers[0].author_name}"
        return "—"


def curation_urls(url_names: dict, question: Question) -> dict:
    """The merge and close addresses that apply to `question` (none once it is merged or no longer open)."""
    urls = {}
    if may_be_merged(question):
        urls["merge"] = reverse(url_names["merge"], args=[question.pk])
    if question.is_open:
        urls["close"] = reverse(url_names["close"], args=[question.pk])
    return urls


class QuestionIndexView(generic.IndexView):
    curation_url_names: dict = {}

    def get_base_queryset(self):
        accepted = Answer.objects.filter(accepted=True).select_related("author")
        return (
            super()
            .get_base_queryset()
            .select_related("asker", "answered_by", "merged_into")
            .prefetch_related(
                Prefetch("routings", queryset=QuestionRouting.objects.select_related("person")),
                Prefetch("answers", queryset=accepted, to_attr="accepted_answers"),
            )
        )

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if not self.user_has_permission("change"):
            return buttons
        urls = curation_urls(self.curation_url_names, instance)
        if "merge" in urls:
            buttons.append(MenuItem("Merge into…", url=urls["merge"], icon_name="resubmit", priority=40))
        if "close" in urls:
            buttons.append(MenuItem("Close", url=urls["close"], icon_name="cross", priority=50))
        return buttons


class QuestionEditView(generic.EditView):
    curation_url_names: dict = {}

    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        urls = curation_urls(self.curation_url_names, self.object)
        if "merge" in urls:
            buttons.append(Button("Merge into…", url=urls["merge"], icon_name="resubmit", priority=40))
        if "close" in urls:
            buttons.append(Button("Close", url=urls["close"], icon_name="cross", priority=50))
        return buttons


class QuestionActionView(PermissionCheckedMixin, WagtailAdminTemplateMixin, BaseObjectMixin, TemplateView):
    """A page about one question that acts only on POST, then goes back to the question's edit view."""

    model = Question
    permission_required = "change"
    header_icon = "help"
    index_url_name = None
    edit_url_name = None
    action_label = ""

    def get_page_title(self):
        return self.action_label

    def get_page_subtitle(self):
        return str(self.object)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.index_url_name), "label": "Questions"},
            {"url": self.edit_url(self.object), "label": str(self.object)},
            {"url": "", "label": self.action_label},
        ]

    def edit_url(self, question: Question) -> str:
        return reverse(self.edit_url_name, args=[question.pk])


class MergeView(QuestionActionView):
    template_name = "questions/admin/merge.html"
    action_label = "Merge into…"
    merge_url_name = None

    def get_context_data(self, **kwargs):
        search = MergeSearchForm(self.request.GET)
        searched = search.cleaned_data["q"].strip() if search.is_valid() else ""
        return super().get_context_data(
            question=self.object,
            refusal=duplicate_refusal(self.object),
            suggestions=merge_suggestions(self.object, self.request.user),
            search_form=search,
            searched=searched,
            results=search_merge_targets(self.object, searched) if searched else [],
            merge_url=reverse(self.merge_url_name, args=[self.object.pk]),
            edit_url=self.edit_url(self.object),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        form = MergeForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(form.errors["into"]))
            return redirect(self.merge_url_name, self.object.pk)
        into = form.cleaned_data["into"]
        try:
            into = merge_question(self.object, into, by=request.user)
        except CurationRefused as refusal:
            messages.error(request, str(refusal))
            return redirect(self.merge_url_name, self.object.pk)
        messages.success(
            request,
            f"“{self.object}” was merged into “{into}”: its answers, routings and followers are there now.",
            buttons=[messages.button(self.edit_url(self.object), "Edit the merged question")],
        )
        return redirect(self.edit_url(into))


class CloseView(QuestionActionView):
    template_name = "questions/admin/close.html"
    action_label = "Close"
    close_url_name = None

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            question=self.object,
            close_url=reverse(self.close_url_name, args=[self.object.pk]),
            edit_url=self.edit_url(self.object),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        try:
            close_question_by_editor(self.object, by=request.user)
        except CurationRefused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, f"“{self.object}” is closed: nobody will be asked to answer it.")
        return redirect(self.edit_url(self.object))


class QuestionViewSet(ModelViewSet):
    model = Question
    icon = "help"
    menu_label = "Questions"
    menu_order = 260
    add_to_admin_menu = True
    url_prefix = "questions"  # at /admin/questions/; the name differs, as "questions" is the public namespace
    copy_view_enabled = False
    inspect_view_enabled = False
    index_view_class = QuestionIndexView
    edit_view_class = QuestionEditView
    filterset_class = QuestionFilterSet
    search_fields = ["text"]
    list_per_page = 50
    list_display = [
        "text",
        Column("asker_name", label="Asker"),
        StatusColumn("status", label="Status"),
        DateColumn("created_at", label="Asked", sort_key="created_at"),
        RoutedToColumn("routed_to", label="Routed to"),
        AnsweredByColumn("answered_by", label="Answered by"),
    ]
    edit_handler = ObjectList(
        [
            FieldPanel("text"),
            FieldPanel("status"),
            FieldPanel("themes", widget=forms.CheckboxSelectMultiple),
        ],
        base_form_class=QuestionAdminForm,
    )

    def get_permissions_to_register(self):
        """None: editors are the Editors group (the policy above), not ticks on a group's permissions."""
        return Permission.objects.none()

    @property
    def curation_url_names(self) -> dict:
        return {"merge": self.get_url_name("merge"), "close": self.get_url_name("close")}

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(curation_url_names=self.curation_url_names, **kwargs)

    def get_edit_view_kwargs(self, **kwargs):
        return super().get_edit_view_kwargs(curation_url_names=self.curation_url_names, **kwargs)

    def action_view_kwargs(self) -> dict:
        return {"index_url_name": self.get_url_name("index"), "edit_url_name": self.get_url_name("edit")}

    @property
    def merge_view(self):
        return self.construct_view(
            MergeView, merge_url_name=self.get_url_name("merge"), **self.action_view_kwargs()
        )

    @property
    def close_view(self):
        return self.construct_view(
            CloseView, close_url_name=self.get_url_name("close"), **self.action_view_kwargs()
        )

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("merge/<int:pk>/", self.merge_view, name="merge"),
            path("close/<int:pk>/", self.close_view, name="close"),
        ]


question_viewset = QuestionViewSet("questions_admin")


@hooks.register("register_admin_viewset")
def register_question_viewset():
    return question_viewset


@hooks.register("register_log_actions")
def register_question_log_actions(actions):
    @actions.register_action(MERGE_ACTION)
    class MergedInto(LogFormatter):
        label = "Merge"

        def format_message(self, log_entry):
            return f"Merged into “{log_entry.data.get('into_text', '')}”"

    actions.register_action(CLOSE_ACTION, "Close", "Closed by an editor")


class OverdueQuestionsPanel(Component):
    """On the dashboard: the open questions nobody has answered for over a week, oldest first."""

    name = "overdue_questions"
    order = 60
    template_name = "questions/admin/overdue_questions_panel.html"

    def __init__(self, count: int, oldest: list[Question]):
        self.count = count
        self.oldest = oldest

    def get_context_data(self, parent_context=None):
        edit = question_viewset.get_url_name("edit")
        return {
            "count": self.count,
            "oldest": [(question, reverse(edit, args=[question.pk])) for question in self.oldest],
            "listing_url": reverse(question_viewset.get_url_name("index")) + "?overdue=true",
        }


@hooks.register("construct_homepage_panels")
def add_overdue_questions_panel(request, panels):
    """Nothing is shown to those who may not curate questions, nor when no question is overdue."""
    if not may_curate_questions(request.user):
        return
    overdue = overdue_questions().select_related("asker").order_by("created_at", "pk")
    oldest = list(overdue[:OVERDUE_ON_DASHBOARD])
    if oldest:
        panels.append(OverdueQuestionsPanel(overdue.count(), oldest))
