"""The Editors and Storytellers groups, and the "Editorial review" workflow on the story library.

Editors curate: they add, edit and publish stories, manage people, themes and outcome types,
images and documents. Storytellers add and edit stories but cannot publish; what they submit
goes to "Editorial review", a group approval task for the Editors. The workflow is assigned to
the library page, so every story inherits it. Safe to run on a database that has some of it.
"""

from django.db import migrations

# The names are also constants in operations.accounts and stories.workflow.
EDITORS_GROUP = "Editors"
STORYTELLERS_GROUP = "Storytellers"
EDITORIAL_REVIEW = "Editorial review"
EDITORS_APPROVAL_TASK = "Editors approve the story"


def permission(apps, app_label, model, codename):
    ContentType = apps.get_model("contenttypes.ContentType")
    Permission = apps.get_model("auth.Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    perm, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename=codename,
        defaults={"name": f"Can {codename.replace('_', ' ')}"},
    )
    return perm


def grant_collection(apps, group, collection, app_label, model, actions):
    GroupCollectionPermission = apps.get_model("wagtailcore.GroupCollectionPermission")
    for action in actions:
        GroupCollectionPermission.objects.get_or_create(
            group=group,
            collection=collection,
            permission=permission(apps, app_label, model, f"{action}_{model}"),
        )


def grant_pages(apps, group, page, actions):
    GroupPagePermission = apps.get_model("wagtailcore.GroupPagePermission")
    for action in actions:
        GroupPagePermission.objects.get_or_create(
            group=group, page=page, permission=permission(apps, "wagtailcore", "page", f"{action}_page")
        )


def create_groups_and_workflow(apps, schema_editor):
    Group = apps.get_model("auth.Group")
    Collection = apps.get_model("wagtailcore.Collection")
    StoryIndexPage = apps.get_model("stories.StoryIndexPage")
    ContentType = apps.get_model("contenttypes.ContentType")
    Workflow = apps.get_model("wagtailcore.Workflow")
    WorkflowTask = apps.get_model("wagtailcore.WorkflowTask")
    WorkflowPage = apps.get_model("wagtailcore.WorkflowPage")
    GroupApprovalTask = apps.get_model("wagtailcore.GroupApprovalTask")

    editors, _ = Group.objects.get_or_create(name=EDITORS_GROUP)
    storytellers, _ = Group.objects.get_or_create(name=STORYTELLERS_GROUP)
    access_admin = permission(apps, "wagtailadmin", "admin", "access_admin")
    editors.permissions.add(access_admin)
    storytellers.permissions.add(access_admin)
    for model in ("person", "theme", "outcometype"):
        for action in ("add", "change", "delete", "view"):
            editors.permissions.add(permission(apps, "stories", model, f"{action}_{model}"))

    root_collection = Collection.objects.filter(depth=1).order_by("path").first()
    if root_collection is not None:
        grant_collection(
            apps, editors, root_collection, "wagtailimages", "image", ["add", "change", "delete", "choose"]
        )
        grant_collection(
            apps, editors, root_collection, "wagtaildocs", "document", ["add", "change", "delete", "choose"]
        )
        grant_collection(apps, storytellers, root_collection, "wagtailimages", "image", ["add", "choose"])

    library = StoryIndexPage.objects.order_by("path").first()
    if library is None:
        return
    grant_pages(apps, editors, library, ["add", "change", "publish", "lock", "unlock"])
    grant_pages(apps, storytellers, library, ["add", "change"])

    workflow = Workflow.objects.filter(name=EDITORIAL_REVIEW).first()
    if workflow is None:
        workflow = Workflow.objects.create(name=EDITORIAL_REVIEW, active=True)
    if not WorkflowTask.objects.filter(workflow=workflow).exists():
        task_type, _ = ContentType.objects.get_or_create(app_label="wagtailcore", model="groupapprovaltask")
        task = GroupApprovalTask.objects.create(
            name=EDITORS_APPROVAL_TASK, content_type=task_type, active=True
        )
        task.groups.add(editors)
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    WorkflowPage.objects.update_or_create(page=library, defaults={"workflow": workflow})


class Migration(migrations.Migration):
    dependencies = [
        ("stories", "0002_library_page"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("wagtailadmin", "0006_formstate"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(create_groups_and_workflow, migrations.RunPython.noop)]
