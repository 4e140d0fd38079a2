"""stories.bulk_pages: bulk-written story pages are the tree nodes and revisions Wagtail would make."""

import pytest
from wagtail.models import Page

from stories.bulk_pages import ChildPaths, add_children_count, add_revisions, insert_pages, sibling_slugs
from stories.models import StoryPage, TranscriptSegment
from tests.factories import StoryPageFactory, ThemeFactory, library

pytestmark = pytest.mark.django_db


def bulk_story(parent, paths, title, **fields):
    story = StoryPage(
        title=title,
        draft_title=title,
        slug=title.lower().replace(" ", "-"),
        depth=paths.depth,
        path=paths.allocate(),
        numchild=0,
        locale_id=parent.locale_id,
        live=False,
        has_unpublished_changes=True,
        **fields,
    )
    story.url_path = f"{parent.url_path}{story.slug}/"
    return story


def test_allocated_paths_are_the_paths_add_child_gives():
    parent = library()
    paths = ChildPaths(parent)
    expected = [paths.allocate() for _ in range(3)]

    made = [StoryPageFactory(title=f"Made {n}") for n in range(3)]

    assert [story.path for story in made] == expected
    assert ChildPaths(library()).allocate() == Page._get_path(parent.path, parent.depth + 1, 4)


def test_bulk_inserted_pages_are_sound_tree_nodes_after_pages_added_one_by_one():
    StoryPageFactory(title="Made in the admin")
    parent = library()
    paths = ChildPaths(parent)
    stories = [bulk_story(parent, paths, f"Bulk {n}") for n in range(5)]

    insert_pages(stories)
    add_children_count(parent, len(stories))
    StoryPageFactory(title="Made afterwards")

    parent = library()
    assert parent.numchild == 7
    assert parent.get_children().count() == 7
    assert Page.find_problems() == ([], [], [], [], [])
    assert {"bulk-0", "made-in-the-admin"} <= sibling_slugs(parent)
    assert StoryPage.objects.get(pk=stories[0].pk).get_parent().pk == parent.pk


def test_bulk_revisions_hold_what_serializable_data_holds():
    parent = library()
    theme = ThemeFactory(name="Onboarding")
    paths = ChildPaths(parent)
    stories = [bulk_story(parent, paths, "Live one", consent=True), bulk_story(parent, paths, "Draft one")]
    stories[0].live, stories[0].has_unpublished_changes = True, False
    insert_pages(stories)
    add_children_count(parent, 2)
    StoryPage.themes.through.objects.create(storypage_id=stories[0].pk, theme_id=theme.pk)

    add_revisions(stories, new=True, many_to_many={"themes": {stories[0].pk: [theme.pk]}})

    live, draft = (StoryPage.objects.get(pk=story.pk) for story in stories)
    assert live.latest_revision == live.live_revision and live.latest_revision is not None
    assert draft.latest_revision is not None and draft.live_revision is None
    assert live.latest_revision.content == live.serializable_data() | {
        "latest_revision": None,
        "live_revision": None,
        "latest_revision_created_at": None,
    }
    assert live.latest_revision.content["themes"] == [theme.pk]
    assert live.latest_revision.as_object().title == "Live one"


def test_revisions_of_existing_pages_keep_their_child_rows():
    story = StoryPageFactory(title="Has a transcript", themes=[ThemeFactory()])
    TranscriptSegment.objects.create(story=story, start=0, end=2, text="Hello there")
    before = story.latest_revision_id

    add_revisions(
        [story],
        new=False,
        many_to_many={"themes": {story.pk: [theme.pk for theme in story.themes.all()]}},
    )

    assert story.latest_revision_id != before
    content = story.latest_revision.content
    assert [segment["text"] for segment in content["transcript_segments"]] == ["Hello there"]
    assert content == story.serializable_data() | {
        "latest_revision": before,
        "live_revision": before,
        "latest_revision_created_at": content["latest_revision_created_at"],
    }
