"""manage.py export_stories [FILE|-]: every story, in the format import_stories reads."""

import sys

from django.core.management.base import BaseCommand

from stories.importing import export_stories


class Command(BaseCommand):
    help = "Export every story (drafts too) as JSON Lines (default) or CSV, to FILE or standard output."

    def add_arguments(self, parser):
        parser.add_argument(
            "file", nargs="?", default="-", help='Where to write; "-" (default) is standard output.'
        )
        parser.add_argument(
            "--format", choices=["jsonl", "csv"], default=None, help="Default: jsonl, or csv for *.csv."
        )

    def handle(self, *args, **options):
        path = options["file"]
        fmt = options["format"] or ("csv" if path.lower().endswith(".csv") else "jsonl")
        if path == "-":
            count = export_stories(self.stdout, fmt=fmt)
            sys.stderr.write(f"Exported {count} stories.\n")
            return
        with open(path, "w", encoding="utf-8", newline="") as stream:
            count = export_stories(stream, fmt=fmt)
        self.stdout.write(self.style.SUCCESS(f"Exported {count} stories to {path}."))
