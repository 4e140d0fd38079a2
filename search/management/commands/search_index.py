"""`manage.py search_index rebuild|update|embed|status|verify [--fix]|retry [STORY_ID…]`: look after the search index."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from search import sync
from search.documents import indexable_stories
from search.embeddings import embedding_progress
from search.models import PendingIndexUpdate
from search.service import backend_health, get_backend
from storybank.redaction import redact_credentials

PARKED_SHOWN = 20


class Command(BaseCommand):
    help = (
        "rebuild: build a fresh index and swap it in; update: apply queued updates (building the index "
        "if there is none); embed: compute the vectors still waiting (the worker does this in the background) "
        "and apply them; status: backend, documents, queue and parked updates; verify [--fix]: compare "
        "the index with the database; retry [STORY_ID…]: give parked updates (all, or these stories') "
        "a fresh round of attempts."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild", "update", "embed", "status", "verify", "retry"])
        parser.add_argument("story_ids", nargs="*", type=int, help="With retry: only these stories.")
        parser.add_argument("--fix", action="store_true", help="With verify: repair the drift it finds.")

    def handle(self, *args, action: str, fix: bool = False, story_ids: list[int] | None = None, **options):
        if story_ids and action != "retry":
            raise CommandError("Story ids are only taken by `search_index retry`.")
        getattr(self, f"handle_{action}")(fix=fix, story_ids=story_ids or None)

    def handle_rebuild(self, **options):
        total = indexable_stories().count()
        backend = get_backend()
        self.stdout.write(f"Rebuilding the {backend.name} index from {total} published stories…")
        started = time.monotonic()

        def progress(done: int) -> None:
            elapsed = max(time.monotonic() - started, 1e-6)
            self.stdout.write(f"  {done}/{total} stories ({done / elapsed:,.0f}/s)")

        count = sync.rebuild_index(progress)
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(f"Indexed {count} stories in {elapsed:.1f}s and swapped the new index in.")
        )

    def handle_update(self, **options):
        try:
            outcome, count = sync.ensure_index()
        except sync.SearchUnavailable as error:
            raise CommandError(f"The search index is unavailable: {redact_credentials(error)}")
        if outcome == "built":
            self.stdout.write(self.style.SUCCESS(f"Built the search index: {count} stories."))
        elif count:
            self.stdout.write(self.style.SUCCESS(f"Search index updated: {count} stories."))
        else:
            remaining = PendingIndexUpdate.objects.count()
            suffix = f" ({remaining} updates wait for the index writer)" if remaining else ""
            self.stdout.write(f"Search index is up to date{suffix}.")

    def handle_embed(self, **options):
        """Meaning search for every story now, in the foreground (resumable: stop it any time)."""
        progress = embedding_progress()
        if progress["model"] == "off":
            raise CommandError("Meaning search is off (EMBEDDING_MODEL=off).")
        started, done = time.monotonic(), 0
        self.stdout.write(f"Embedding {progress['waiting']} stories with {progress['model']}…")
        while embedded := sync.embed_waiting_stories():
            done += embedded
            rate = done / max(time.monotonic() - started, 1e-6)
            self.stdout.write(f"  {done}/{progress['waiting']} stories ({rate:,.1f}/s)")
        applied = sync.apply_pending_updates(wait=True)
        self.stdout.write(self.style.SUCCESS(f"Embedded {done} stories; {applied} index updates applied."))

    def handle_status(self, **options):
        health = backend_health()
        self.stdout.write(f"Backend:          {health.get('backend')}")
        self.stdout.write(f"Reachable:        {'yes' if health.get('ok') else 'no'}")
        if health.get("error"):
            self.stdout.write(f"Error:            {redact_credentials(health['error'])}")
        if health.get("index"):
            self.stdout.write(f"Index:            {health['index']}")
        self.stdout.write(f"Documents:        {health.get('documents', 0)}")
        self.stdout.write(f"Published:        {indexable_stories().count()}")
        self.stdout.write(f"Pending updates:  {health.get('pending_updates')}")
        oldest = PendingIndexUpdate.objects.order_by("pk").first()
        if oldest:
            self.stdout.write(f"Oldest pending:   {oldest.created_at:%Y-%m-%d %H:%M:%S} ({oldest})")
        if health.get("failing_updates"):
            latest = PendingIndexUpdate.objects.exclude(last_error="").order_by("-pk").first()
            if latest:
                self.stdout.write(
                    f"Failing updates:  {health['failing_updates']} (last error: {latest.last_error})"
                )
        waiting = PendingIndexUpdate.objects.waiting().order_by("next_attempt_at").first()
        if waiting:
            count = PendingIndexUpdate.objects.waiting().count()
            self.stdout.write(
                f"Waiting to retry: {count} (next at {waiting.next_attempt_at:%Y-%m-%d %H:%M:%S})"
            )
        parked = PendingIndexUpdate.objects.parked().order_by("pk")
        self.stdout.write(f"Parked updates:   {parked.count()}")
        for row in parked[:PARKED_SHOWN]:
            self.stdout.write(
                f"  story {row.story_id}: {row.attempts} attempts, parked {row.parked_at:%Y-%m-%d %H:%M:%S}, "
                f"last error: {row.last_error}"
            )
        if parked.exists():
            self.stdout.write("  Fix the cause, then run `manage.py search_index retry` to try them again.")
        meaning = embedding_progress()
        if meaning["model"] == "off":
            self.stdout.write("Meaning search:   off (EMBEDDING_MODEL=off)")
        else:
            self.stdout.write(
                f"Meaning search:   {meaning['model']}, {meaning['embedded']} stories embedded, "
                f"{meaning['waiting']} waiting for the worker"
            )

    def handle_retry(self, *, story_ids: list[int] | None, **options):
        count = sync.retry_parked(story_ids)
        if count:
            self.stdout.write(
                self.style.SUCCESS(f"{count} parked updates queued again; the worker retries them.")
            )
        else:
            self.stdout.write("No parked updates to retry.")

    def handle_verify(self, *, fix: bool, **options):
        backend = get_backend()
        if not backend.exists() or not backend.schema_is_current():
            raise CommandError("There is no current search index: run `manage.py search_index update`.")
        drift = sync.find_drift()
        for label, ids in (("missing", drift.missing), ("stale", drift.stale), ("extra", drift.extra)):
            shown = ", ".join(map(str, ids[:20])) + (" …" if len(ids) > 20 else "")
            self.stdout.write(f"{label.capitalize():8} {len(ids)}{': ' + shown if ids else ''}")
        if drift.unreadable:
            shown = ", ".join(map(str, drift.unreadable[:20])) + (" …" if len(drift.unreadable) > 20 else "")
            self.stdout.write(
                f"Unreadable {len(drift.unreadable)}: {shown} (no search document can be built)"
            )
        if drift.clean:
            self.stdout.write(self.style.SUCCESS("The index matches the database."))
            return
        if not fix:
            self.stdout.write(self.style.WARNING("The index has drifted; run `search_index verify --fix`."))
            raise SystemExit(1)
        fixed = sync.fix_drift(drift)
        after = sync.find_drift()
        if not after.clean:
            raise CommandError(f"Fixed {fixed} stories but drift remains: {after}")
        self.stdout.write(self.style.SUCCESS(f"Fixed {fixed} stories; the index matches the database."))
