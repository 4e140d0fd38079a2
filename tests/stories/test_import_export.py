"""import_stories and export_stories: JSON Lines and CSV, idempotent by external_id, lossless round trip."""

import io
import json

import pytest
from django.core.management import call_command
from wagtail.models import Page

from stories.importing import (
    bulk_import_active,
    bulk_import_mode,
    export_stories,
    import_stories,
    refresh_admin_search,
)
from stories.models import OutcomeType, Person, StoryIndexPage, StoryPage, Theme
from tests.factories import PersonFactory, StoryPageFactory, ThemeFactory

pytestmark = pytest.mark.django_db

GOOD_LINE = {
    "external_id": "crm-1",
    "title": "One post answered a week-old question",
    "teller": {"name": "Amara Okafor", "email": "amara@example.org"},
    "people": ["Jonas Berg"],
    "themes": ["Email to network", "Finding an expert"],
    "outcomes": ["Faster answer"],
    "context": "A customer question sat in my inbox for a week.",
    "aha": "I posted it on the internal network instead.",
    "outcome": "The customer had an answer the same afternoon.",
    "occurred_on": "2022-03-14",
    "visibility": "public",
    "publish": True,
}

CSV_TEXT = (
    "external_id,title,teller,teller_email,people,themes,outcomes,context,aha,outcome,occurred_on,visibility,publish\n"
    "csv-1,Night shift knew why,Daniel O'Connor,daniel@example.org,Oliver Grant;Jonas Berg,"
    "Knowledge reuse;Trust and relationships,Risk avoided,Pallets fell.,Ask the night shift.,"
    "No collapses since.,2022-01-18,staff,true\n"
    "csv-2,A draft,,,,,,,,,,public,false\n"
    "csv-3,Bad date,,,,Onboarding,,,,,18/01/2022,public,false\n"
)


def write_jsonl(tmp_path, records, name="stories.jsonl"):
    path = tmp_path / name
    path.write_text("".join((json.dumps(r) if isinstance(r, dict) else r) + "\n" for r in records))
    return path


def test_jsonl_import_creates_a_published_story_with_people_themes_and_outcomes(tmp_path):
    report = import_stories(write_jsonl(tmp_path, [GOOD_LINE]))

    assert (report.created, report.updated, report.failed) == (1, 0, 0)
    story = StoryPage.objects.get(external_id="crm-1")
    assert story.live and story.consent
    assert story.url_path.endswith("/stories/one-post-answered-a-week-old-question/")
    assert story.teller.name == "Amara Okafor" and story.teller.email == "amara@example.org"
    assert story.people_names == ["Jonas Berg"]
    assert sorted(story.theme_names) == ["Email to network", "Finding an expert"]
    assert story.outcome_names == ["Faster answer"]
    assert str(story.occurred_on) == "2022-03-14"
    assert story in StoryPage.objects.visible_to(None)


def test_imported_pages_are_sound_tree_nodes():
    StoryPageFactory(title="Made in the admin")
    import_stories(io.StringIO("\n".join(json.dumps(dict(GOOD_LINE, external_id=f"x{n}")) for n in range(5))))

    library = StoryIndexPage.objects.get()
    assert library.numchild == 6
    assert library.get_children().count() == 6
    assert len({page.slug for page in library.get_children()}) == 6
    assert Page.find_problems() == ([], [], [], [], [])


def test_importing_the_same_file_twice_creates_no_duplicates(tmp_path):
    path = write_jsonl(tmp_path, [GOOD_LINE, dict(GOOD_LINE, external_id="crm-2", title="Second story")])
    import_stories(path)

    again = import_stories(path)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert StoryPage.objects.count() == 2
    assert Person.objects.filter(name="Amara Okafor").count() == 1
    assert Theme.objects.filter(name="Email to network").count() == 1


def test_reimport_with_changes_updates_the_story(tmp_path):
    import_stories(write_jsonl(tmp_path, [GOOD_LINE]))
    changed = dict(
        GOOD_LINE, title="A better title", themes=["Knowledge reuse"], visibility="staff", publish=False
    )

    report = import_stories(write_jsonl(tmp_path, [changed], name="changed.jsonl"))

    assert (report.created, report.updated) == (0, 1)
    story = StoryPage.objects.get(external_id="crm-1")
    assert story.title == "A better title"
    assert story.theme_names == ["Knowledge reuse"]
    assert story.visibility == "staff"
    assert not story.live


def test_bad_lines_are_reported_with_line_numbers_and_good_lines_still_import(tmp_path):
    lines = [
        GOOD_LINE,
        "{not json",
        dict(GOOD_LINE, external_id="crm-3", occurred_on="14/03/2022"),
        dict(GOOD_LINE, external_id="crm-4", themes=[]),
        dict(GOOD_LINE, external_id="", title="No id"),
        dict(GOOD_LINE, external_id="crm-6", visibility="secret"),
        dict(GOOD_LINE, external_id="crm-7", title="Fine too"),
    ]

    report = import_stories(write_jsonl(tmp_path, lines))

    assert (report.created, report.failed) == (2, 5)
    reasons = dict(report.errors)
    assert "not valid JSON" in reasons[2]
    assert "occurred_on" in reasons[3] and "YYYY-MM-DD" in reasons[3]
    assert "at least one theme" in reasons[4]
    assert "external_id is missing" in reasons[5]
    assert "visibility must be public or staff" in reasons[6]
    assert set(StoryPage.objects.values_list("external_id", flat=True)) == {"crm-1", "crm-7"}


def test_csv_import_splits_lists_and_reports_bad_rows(tmp_path):
    path = tmp_path / "stories.csv"
    path.write_text(CSV_TEXT)

    report = import_stories(path)

    assert (report.created, report.failed) == (2, 1)
    assert report.errors[0][0] == 4 and "occurred_on" in report.errors[0][1]
    story = StoryPage.objects.get(external_id="csv-1")
    assert story.teller.email == "daniel@example.org"
    assert story.people_names == ["Jonas Berg", "Oliver Grant"]
    assert sorted(story.theme_names) == ["Knowledge reuse", "Trust and relationships"]
    assert story.visibility == "staff" and story.live
    assert not StoryPage.objects.get(external_id="csv-2").live


def test_format_is_detected_from_content_without_an_extension(tmp_path):
    csv_path = tmp_path / "stories-export"
    csv_path.write_text(CSV_TEXT)
    jsonl_path = write_jsonl(tmp_path, [GOOD_LINE], name="more-stories")

    assert import_stories(csv_path).created == 2
    assert import_stories(jsonl_path).created == 1


def test_existing_people_and_themes_are_reused_by_name_and_slug(tmp_path):
    person = PersonFactory(name="Amara Okafor")
    theme = ThemeFactory(name="Email to network")

    import_stories(write_jsonl(tmp_path, [dict(GOOD_LINE, themes=["email-to-network"])]))

    story = StoryPage.objects.get(external_id="crm-1")
    assert story.teller == person
    assert list(story.themes.all()) == [theme]
    person.refresh_from_db()
    assert person.email == "amara@example.org"


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_then_import_round_trips_every_field(tmp_path, fmt):
    import_stories(write_jsonl(tmp_path, [GOOD_LINE]))
    StoryPageFactory(
        title="Written in the admin; with a semicolon",
        themes=[ThemeFactory(name="Onboarding")],
        teller=PersonFactory(name="Grace Mensah", email=None),
        visibility="staff",
        impact_value="2.5",
        impact_unit="days saved",
        featured=True,
    )
    first = io.StringIO()
    export_stories(first, fmt=fmt)

    StoryPage.objects.all().delete()
    report = import_stories(io.StringIO(first.getvalue()), fmt=fmt)
    second = io.StringIO()
    export_stories(second, fmt=fmt)

    assert report.created == 2 and report.failed == 0
    assert second.getvalue() == first.getvalue()


def test_reimporting_an_export_into_the_same_site_changes_nothing(tmp_path):
    StoryPageFactory(title="Written in the admin", themes=[ThemeFactory()])
    exported = io.StringIO()
    export_stories(exported)

    report = import_stories(io.StringIO(exported.getvalue()), fmt="jsonl")

    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    assert StoryPage.objects.count() == 1


def test_commands_import_and_export_with_a_summary(tmp_path):
    source = write_jsonl(tmp_path, [GOOD_LINE, "oops"])
    target = tmp_path / "out.csv"
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "import_stories", str(source), "--batch-size", "1", "--skip-search-index", stdout=out, stderr=err
    )
    call_command("export_stories", str(target), "--format", "csv", stdout=io.StringIO())

    assert "1 created, 0 updated, 0 unchanged, 1 failed" in out.getvalue()
    assert "line 2: not valid JSON" in err.getvalue()
    assert "crm-1,One post answered a week-old question,Amara Okafor" in target.read_text()


def test_bulk_import_mode_is_visible_to_signal_handlers_only_inside_the_block():
    assert not bulk_import_active()
    with bulk_import_mode():
        assert bulk_import_active()
    assert not bulk_import_active()


def test_import_creates_new_vocabulary_once(tmp_path):
    lines = [dict(GOOD_LINE, external_id=f"v{n}", outcomes=["Time saved", "time saved"]) for n in range(3)]

    import_stories(write_jsonl(tmp_path, lines), batch_size=2)

    assert OutcomeType.objects.filter(name__iexact="time saved").count() == 1
    assert StoryPage.objects.count() == 3


def test_imported_stories_become_findable_in_the_admin_search(tmp_path):
    report = import_stories(
        write_jsonl(tmp_path, [dict(GOOD_LINE, title="Pallets leaning after deliveries")])
    )
    assert not Page.objects.search("pallets leaning")

    refresh_admin_search(report.written_story_ids)

    assert [page.title for page in Page.objects.search("pallets leaning")] == [
        "Pallets leaning after deliveries"
    ]


def test_every_imported_story_gets_a_first_revision(tmp_path):
    import_stories(write_jsonl(tmp_path, [GOOD_LINE, dict(GOOD_LINE, external_id="crm-2", publish=False)]))

    live, draft = StoryPage.objects.get(external_id="crm-1"), StoryPage.objects.get(external_id="crm-2")
    assert live.revisions.count() == 1 and live.live_revision == live.latest_revision
    assert draft.revisions.count() == 1 and draft.live_revision is None
    assert draft.latest_revision.as_object().title == GOOD_LINE["title"]
    assert sorted(live.latest_revision.content["themes"]) == sorted(theme.pk for theme in live.themes.all())


def test_an_updated_story_gets_a_new_revision_and_an_unchanged_one_none(tmp_path):
    import_stories(write_jsonl(tmp_path, [GOOD_LINE]))
    import_stories(write_jsonl(tmp_path, [GOOD_LINE], name="same.jsonl"))
    first = StoryPage.objects.get(external_id="crm-1").latest_revision

    import_stories(write_jsonl(tmp_path, [dict(GOOD_LINE, title="A better title")], name="changed.jsonl"))

    story = StoryPage.objects.get(external_id="crm-1")
    assert story.revisions.count() == 2
    assert story.latest_revision != first and story.live_revision == story.latest_revision
    assert story.latest_revision.as_object().title == "A better title"


def test_an_update_keeps_relations_the_record_repeats_and_rewrites_those_it_changes(tmp_path):
    second = dict(GOOD_LINE, external_id="crm-2", title="Second story")
    import_stories(write_jsonl(tmp_path, [GOOD_LINE, second]))
    renamed = dict(GOOD_LINE, title="A better title")
    regrouped = dict(second, people=["Oliver Grant"], themes=["Knowledge reuse"], outcomes=[])

    report = import_stories(write_jsonl(tmp_path, [renamed, regrouped], name="changed.jsonl"))

    assert (report.created, report.updated, report.unchanged) == (0, 2, 0)
    kept, changed = StoryPage.objects.get(external_id="crm-1"), StoryPage.objects.get(external_id="crm-2")
    assert kept.title == "A better title" and kept.people_names == ["Jonas Berg"]
    assert sorted(kept.theme_names) == ["Email to network", "Finding an expert"]
    assert kept.outcome_names == ["Faster answer"]
    assert changed.people_names == ["Oliver Grant"] and changed.theme_names == ["Knowledge reuse"]
    assert changed.outcome_names == []
    for story in (kept, changed):
        content = story.latest_revision.content
        assert story.revisions.count() == 2
        assert sorted(content["people"]) == sorted(person.pk for person in story.people.all())
        assert sorted(content["themes"]) == sorted(theme.pk for theme in story.themes.all())
        assert sorted(content["outcome_types"]) == sorted(outcome.pk for outcome in story.outcome_types.all())


def test_a_record_that_changes_only_the_teller_updates_the_story(tmp_path):
    import_stories(write_jsonl(tmp_path, [GOOD_LINE]))

    report = import_stories(
        write_jsonl(tmp_path, [dict(GOOD_LINE, teller="Jonas Berg")], name="teller.jsonl")
    )

    assert (report.updated, report.unchanged) == (1, 0)
    story = StoryPage.objects.get(external_id="crm-1")
    assert story.teller.name == "Jonas Berg"
    assert story.latest_revision.content["teller"] == story.teller_id


def test_errors_keep_their_wording(tmp_path):
    lines = [
        dict(GOOD_LINE, title=""),
        dict(GOOD_LINE, external_id="x" * 101),
        dict(GOOD_LINE, impact_value="lots"),
        dict(GOOD_LINE, teller={"name": "", "email": "a@example.org"}),
        dict(GOOD_LINE, teller={"name": "Amara", "email": "nope"}),
        dict(GOOD_LINE, featured="maybe"),
        dict(GOOD_LINE, people="Jonas", themes=42),
    ]

    report = import_stories(write_jsonl(tmp_path, lines))

    assert dict(report.errors) == {
        1: "title is missing",
        2: "external_id is longer than 100 characters",
        3: "impact_value 'lots' is not a number",
        4: "teller_email is given without the teller's name",
        5: "teller_email 'nope' is not an e-mail address",
        6: "featured must be true or false, not 'maybe'",
        7: "themes must be a list (or ';'-separated text)",
    }
