"""Wagtail's page permissions, with "add" meaning what it says for Storytellers.

Wagtail's owner-based model already lets a group with only `add` on the library create stories
and edit, preview and delete its members' own drafts, and nothing else. But its explorer, page
search and chooser still list every page under the library to such a group. This policy keeps
the same rules and lists only the pages a user may act on, so a storyteller never sees the
titles of other people's drafts.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import Http404
from django.urls import path
from wagtail.admin.views.reports.audit_logging import LogEntriesView
from wagtail.admin.views.reports.page_types_usage import PageTypesUsageReportView
from wagtail.admin.views.reports.workflows import WorkflowTasksView, WorkflowView
from wagtail.documents import get_document_model
from wagtail.documents.api.admin.views import DocumentsAdminAPIViewSet
from wagtail.images import get_image_model
from wagtail.images.api.admin.views import ImagesAdminAPIViewSet
from wagtail.models import Page
from wagtail.permission_policies.base import BasePermissionPolicy
from wagtail.permission_policies.pages import PagePermissionPolicy
from wagtail.permissions import policy_registry, register_permission_policy

from stories.visibility import EDITORS_GROUP, is_editor

# Page permissions that open a whole subtree; `add` alone opens only the pages one owns.
SUBTREE_ACTIONS = {"change", "publish", "lock", "unlock", "bulk_delete"}


class OwnPagesPermissionPolicy(PagePermissionPolicy):
    def explorable_instances(self, user):
        pages = super().explorable_instances(user)
        if self._base_queryset_for_user(user) is not None:  # superusers, inactive users
            return pages
        permissions = list(self.get_cached_permissions_for_user(user))
        wide = [perm.page for perm in permissions if self._action(perm) in SUBTREE_ACTIONS]
        for perm in permissions:
            if self._action(perm) != "add" or any(perm.page.path.startswith(p.path) for p in wide):
                continue
            others = self.model._default_manager.descendant_of(perm.page).exclude(owner=user)
            pages = pages.exclude(pk__in=others.values("pk"))
        return pages

    @staticmethod
    def _action(perm) -> str:
        return perm.permission.codename.rsplit("_", 1)[0]


class EditorsMayViewPolicy(BasePermissionPolicy):
    """Editors may look at these rows in the admin; nobody edits them by hand (the app writes them)."""

    def user_has_permission(self, user, action):
        return action == "view" and is_editor(user)

    def users_with_any_permission(self, actions):
        if "view" not in actions:
            return get_user_model().objects.none()
        return get_user_model().objects.filter(
            Q(is_superuser=True) | Q(groups__name=EDITORS_GROUP), is_active=True
        )


def register() -> None:
    register_permission_policy(Page, OwnPagesPermissionPolicy(Page))


def editors_only(view_class: type) -> type:
    """A Wagtail report view that asks for `publish`, which Storytellers never have.

    Wagtail opens these reports to anyone with `add`, yet they name other people's pages (the
    last edited page of each type) or accounts (who requested a review, who did what). Wagtail
    counts `add` as `change` for one's own pages, so asking for `change` would not do.
    """
    attributes = {
        "any_permission_required": ["publish"],
        "permission_policy": property(lambda view: policy_registry.get_by_type(Page)),
    }
    return type(f"EditorsOnly{view_class.__name__}", (view_class,), attributes)


# (address under /admin/reports/, Wagtail's view, its reports-menu name)
EDITORS_ONLY_REPORTS = [
    ("page-types-usage/", PageTypesUsageReportView, "page-types-usage"),
    ("site-history/", LogEntriesView, "site-history"),
    ("workflow/", WorkflowView, "workflows"),
    ("workflow_tasks/", WorkflowTasksView, "workflow-tasks"),
]
EDITORS_ONLY_REPORT_MENU_NAMES = {menu_name for _address, _view, menu_name in EDITORS_ONLY_REPORTS}


def editors_only_report_urls() -> list:
    """Served ahead of Wagtail's admin URLs, at the same addresses (Wagtail's names still reverse)."""
    patterns = []
    for address, view_class, menu_name in EDITORS_ONLY_REPORTS:
        view = editors_only(view_class)
        patterns += [
            path(f"admin/reports/{address}", view.as_view(), name=f"storybank_{menu_name}"),
            path(
                f"admin/reports/{address}results/",
                view.as_view(results_only=True),
                name=f"storybank_{menu_name}_results",
            ),
        ]
    return patterns


# Wagtail admin URL arguments that name a page, and the bulk-action query parameters that do.
PAGE_ID_ARGUMENTS = ("page_id", "parent_page_id", "page_to_move_id", "destination_id")
BULK_PAGE_ACTIONS_PATH = "/admin/bulk/wagtailcore/page/"
MAX_PAGE_ID = 2**31 - 1  # Wagtail's page ids are 32-bit; a larger one names no page


class AdminPageGuardMiddleware:
    """A non-editor's admin request that names a page they may not explore answers 404.

    Wagtail's permission checks refuse the action, but several of its views print the page's
    title first (the explorer header, the chooser header, "you may not delete <title>" in bulk
    actions, move confirmation on GET). The rule applied here is the same policy's
    `explorable_instances`, so it only hides what the permission model already refuses.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.path.startswith("/admin/") or not request.user.is_authenticated:
            return None
        if is_editor(request.user):
            return None
        ids = {view_kwargs[name] for name in PAGE_ID_ARGUMENTS if name in view_kwargs}
        if request.path.startswith(BULK_PAGE_ACTIONS_PATH):
            named = [*request.GET.getlist("id"), *request.GET.getlist("childOf")]
            if "all" in named:
                raise Http404("Choose the pages one by one.")
            ids |= {int(value) for value in named if value.isascii() and value.isdigit()}
        if not ids:
            return None
        if max(ids) > MAX_PAGE_ID:
            raise Http404("No such page.")
        explorable = policy_registry.get_by_type(Page).explorable_instances(request.user)
        if explorable.filter(pk__in=ids).count() != len(ids):
            raise Http404("No such page.")
        return None


def _chooseable_only(viewset: type, permission_policy) -> type:
    """Wagtail's admin API lists every image or document to any admin user; keep those one may choose."""

    def get_queryset(self):
        user = self.request.user
        allowed = permission_policy.instances_user_has_any_permission_for(user, ["choose", "change"])
        return super(endpoint, self).get_queryset().filter(pk__in=allowed.values("pk"))

    endpoint = type(f"Chooseable{viewset.__name__}", (viewset,), {"get_queryset": get_queryset})
    return endpoint


def register_admin_api_endpoints(router) -> None:
    """Replace Wagtail's admin API images and documents endpoints (called from wagtail_hooks)."""
    image_policy = policy_registry.get_by_type(get_image_model())
    document_policy = policy_registry.get_by_type(get_document_model())
    router.register_endpoint("images", _chooseable_only(ImagesAdminAPIViewSet, image_policy))
    router.register_endpoint("documents", _chooseable_only(DocumentsAdminAPIViewSet, document_policy))
