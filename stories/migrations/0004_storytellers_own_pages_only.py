"""Storytellers keep only `add` on the library: Wagtail's owner-based permission.

With `add`, a member creates stories and edits, previews and deletes their own drafts; the
`change` granted before let them edit anyone's story. `choose` on images let them browse every
picture, covers of other people's drafts included, and `add` let them replace or delete a picture
they uploaded even once it was a published cover, with no review. Storytellers add their cover in
the share form, which goes through review like the rest of the story.
"""

from django.db import migrations

STORYTELLERS_GROUP = "Storytellers"


def narrow_storytellers(apps, schema_editor):
    Group = apps.get_model("auth.Group")
    GroupPagePermission = apps.get_model("wagtailcore.GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore.GroupCollectionPermission")
    group = Group.objects.filter(name=STORYTELLERS_GROUP).first()
    if group is None:
        return
    GroupPagePermission.objects.filter(group=group).exclude(permission__codename="add_page").delete()
    GroupCollectionPermission.objects.filter(group=group).delete()


class Migration(migrations.Migration):
    dependencies = [("stories", "0003_editorial_workflow_and_groups")]
    operations = [migrations.RunPython(narrow_storytellers, migrations.RunPython.noop)]
