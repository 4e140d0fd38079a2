"""manage.py load_demo: the demo colleagues, themes and stories; creates only what is missing."""

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

from stories.demo import load_demo


class Command(BaseCommand):
    help = "Load the demo people, themes, outcome types and stories (with covers). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--skip-search-index", action="store_true", help="Do not update the search index afterwards."
        )

    def handle(self, *args, **options):
        created = load_demo()
        if not created["stories"] and not created["people"]:
            self.stdout.write("Demo content is already loaded.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo content: {created['stories']} stories and {created['people']} people added."
            )
        )
        if not options["skip_search_index"] and "search_index" in get_commands():
            call_command("search_index", "update", stdout=self.stdout)
