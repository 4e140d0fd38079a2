"""Create the story library (/stories/) under the home page."""

from django.db import migrations


def create_library(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Locale = apps.get_model("wagtailcore.Locale")
    HomePage = apps.get_model("home.HomePage")
    StoryIndexPage = apps.get_model("stories.StoryIndexPage")
    Page = apps.get_model("wagtailcore.Page")

    home = HomePage.objects.filter(depth=2).first()
    if home is None or StoryIndexPage.objects.exists():
        return
    index_type, _ = ContentType.objects.get_or_create(model="storyindexpage", app_label="stories")
    StoryIndexPage.objects.create(
        title="Story library",
        draft_title="Story library",
        slug="stories",
        content_type=index_type,
        path=home.path + "0001",
        depth=3,
        numchild=0,
        url_path=home.url_path + "stories/",
        locale=Locale.objects.order_by("pk").first(),
        intro="Every story our colleagues have shared: browse by theme, person, outcome and year.",
        live=True,
    )
    Page.objects.filter(pk=home.pk).update(numchild=1)


class Migration(migrations.Migration):
    dependencies = [
        ("stories", "0001_initial"),
        ("home", "0002_site_root"),
        ("wagtailcore", "0098_apitoken"),
    ]
    operations = [migrations.RunPython(create_library, migrations.RunPython.noop)]
