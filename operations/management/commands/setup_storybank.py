"""Prepare a Storybank installation: migrate, accounts, demo content, search index. Idempotent."""

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

from operations.accounts import ensure_accounts
from operations.site import point_site_at


class Command(BaseCommand):
    help = "Migrate, create the editor and staff accounts, load demo content once, build the search index."

    def add_arguments(self, parser):
        parser.add_argument("--no-demo", action="store_true", help="Skip the demo content.")

    def handle(self, *args, **options):
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        settings.MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database is up to date.")
        point_site_at(settings.WAGTAILADMIN_BASE_URL)
        commands = get_commands()
        if not options["no_demo"] and "load_demo" in commands:
            # The index is brought up to date once, below.
            call_command("load_demo", skip_search_index=True, stdout=self.stdout)
        credentials_path = settings.VAR_DIR / "credentials"
        for spec, username, new_password in ensure_accounts(credentials_path):
            if new_password:
                self.stdout.write(
                    self.style.SUCCESS(f"Created the {spec.role} account: {username} / {new_password}")
                )
            else:
                self.stdout.write(f"The {spec.role} account {username!r} is ready.")
        self.stdout.write(f"Generated credentials are kept in {credentials_path} (mode 600).")
        if "search_index" in commands:
            call_command("search_index", "update", stdout=self.stdout)
