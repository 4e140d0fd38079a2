"""manage.py import_stories FILE: create or update stories from JSON Lines or CSV."""

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

from stories.importing import DEFAULT_BATCH_SIZE, import_stories, refresh_admin_search


class Command(BaseCommand):
    help = (
        'Import stories from a JSON Lines or CSV file ("-" reads standard input). Stories are keyed '
        "by external_id: importing again updates them. Bad lines are reported and skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help='The file to read, or "-" for standard input.')
        parser.add_argument(
            "--format", choices=["jsonl", "csv"], help="Default: from the extension or content."
        )
        parser.add_argument(
            "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="Stories per transaction."
        )
        parser.add_argument(
            "--skip-search-index",
            action="store_true",
            help=(
                "Leave the site's search index to the worker (every written story is queued for it) and "
                "do not update the admin's search index."
            ),
        )

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")

        def progress(report):
            if options["verbosity"] >= 2:
                self.stdout.write(f"… {report.summary()}")

        try:
            report = import_stories(
                options["file"], fmt=options["format"], batch_size=options["batch_size"], progress=progress
            )
        except FileNotFoundError:
            raise CommandError(f"No such file: {options['file']}")
        for line_number, reason in report.errors:
            self.stderr.write(f"line {line_number}: {reason}")
        style = self.style.SUCCESS if not report.failed else self.style.WARNING
        self.stdout.write(style(f"Imported stories: {report.summary()}."))
        if not (report.created or report.updated):
            return
        if options["skip_search_index"]:
            self.stdout.write(
                "Stories queued for the site's search index (the worker or `manage.py search_index update` "
                "applies them); admin search not updated: run `manage.py update_index`."
            )
            return
        indexed = refresh_admin_search(report.written_story_ids)
        self.stdout.write(f"Admin search: {indexed} stories indexed.")
        if "search_index" in get_commands():
            call_command("search_index", "update", stdout=self.stdout)
