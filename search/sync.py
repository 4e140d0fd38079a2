"""Keeping the index in step with the database: the durable queue, rebuilds, and drift checks.

Signal handlers only enqueue (search.models.PendingIndexUpdate). The worker's housekeeping thread
calls apply_pending_updates() every few seconds; it re-reads each queued story from the database,
so the index ends up matching whatever the story is now, however many times it changed.
One process at a time writes the index: every writer here takes the same lock file first.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import F, Max

from search.backends.base import SearchUnavailable
from search.documents import iter_documents
from search.models import PendingIndexUpdate
from search.service import get_backend

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
LOCK_FILE = ".index-writer.lock"


def bulk_import_active() -> bool:
    """True inside stories.importing.bulk_import_mode(): the importer rebuilds the index afterwards."""
    try:
        from stories import importing
    except ImportError:
        return False
    for name in ("bulk_import_active", "is_bulk_import_active", "in_bulk_import"):
        check = getattr(importing, name, None)
        if callable(check):
            return bool(check())
    for name in ("BULK_IMPORT_ACTIVE", "bulk_import_active_flag", "_state"):
        flag = getattr(importing, name, None)
        if isinstance(flag, bool):
            return flag
        active = getattr(flag, "active", None)
        if isinstance(active, bool):
            return active
    return False


def enqueue_stories(story_ids: Iterable[int], reason: str) -> int:
    """Queue these stories for re-indexing (inside the caller's transaction). Skipped during bulk imports."""
    if bulk_import_active():
        return 0
    rows = [
        PendingIndexUpdate(story_id=story_id, reason=reason[:40]) for story_id in dict.fromkeys(story_ids)
    ]
    PendingIndexUpdate.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def pending_count() -> int:
    return PendingIndexUpdate.objects.count()


@contextmanager
def index_write_lock(*, wait: bool) -> Iterator[bool]:
    """Hold the one-writer lock; yields False (without waiting) when another process holds it."""
    root = settings.SEARCH_INDEX_DIR
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def apply_pending_updates(max_batches: int | None = None, *, wait: bool = False) -> int:
    """Apply queued updates; builds the index first when there is none. Returns stories brought up to date.

    Never raises for an unavailable index: the rows stay queued and the next call retries.
    """
    backend = get_backend()
    try:
        index_ready = backend.exists() and index_schema_is_current(backend)
    except SearchUnavailable as error:
        logger.warning("Search index unavailable; %d updates stay queued: %s", pending_count(), error)
        return 0
    if index_ready and not PendingIndexUpdate.objects.exists():
        return 0  # the common case, every few seconds: one query
    with index_write_lock(wait=wait) as acquired:
        if not acquired:
            return 0
        try:
            if not (
                backend.exists() and index_schema_is_current(backend)
            ):  # another writer may have built it
                return _rebuild_locked(None)
        except SearchUnavailable as error:
            logger.warning("Search index unavailable; cannot build it yet: %s", error)
            return 0
        applied = 0
        batches = 0
        while max_batches is None or batches < max_batches:
            rows = list(PendingIndexUpdate.objects.order_by("pk")[:BATCH_SIZE])
            if not rows:
                break
            batches += 1
            try:
                applied += _apply_rows(backend, rows)
            except SearchUnavailable as error:
                _record_failure(rows, error)
                logger.warning("Search index unavailable; %d updates stay queued: %s", pending_count(), error)
                break
        return applied


def _apply_rows(backend, rows: list[PendingIndexUpdate]) -> int:
    story_ids = {row.story_id for row in rows}
    try:
        _update_stories(backend, story_ids)
    except SearchUnavailable:
        raise
    except Exception:
        logger.exception("Index batch failed; retrying its stories one at a time")
        for story_id in story_ids:
            story_rows = [row for row in rows if row.story_id == story_id]
            try:
                _update_stories(backend, {story_id})
            except SearchUnavailable:
                raise
            except Exception as error:
                _record_failure(story_rows, error)
                continue
            PendingIndexUpdate.objects.filter(pk__in=[row.pk for row in story_rows]).delete()
        return len(story_ids)
    PendingIndexUpdate.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(story_ids)


def _update_stories(backend, story_ids: set[int]) -> None:
    documents = list(iter_documents(story_ids))
    indexed = {document["id"] for document in documents}
    backend.update(documents=documents, delete_ids=story_ids - indexed)


def _record_failure(rows: list[PendingIndexUpdate], error: Exception) -> None:
    PendingIndexUpdate.objects.filter(pk__in=[row.pk for row in rows]).update(
        attempts=F("attempts") + 1, last_error=str(error)[:2000]
    )


def rebuild_index(progress: Callable[[int], None] | None = None) -> int:
    """Build a fresh index from every published story and swap it in; waits for any other writer."""
    with index_write_lock(wait=True):
        return _rebuild_locked(progress)


def _rebuild_locked(progress: Callable[[int], None] | None) -> int:
    # Updates queued before the build started are covered by it; later ones are applied afterwards.
    covered_up_to = PendingIndexUpdate.objects.aggregate(last=Max("pk"))["last"]
    count = get_backend().rebuild(iter_documents(), progress)
    if covered_up_to is not None:
        PendingIndexUpdate.objects.filter(pk__lte=covered_up_to).delete()
    return count


def index_schema_is_current(backend) -> bool:
    return getattr(backend, "schema_is_current", lambda: True)()


def ensure_index() -> tuple[str, int]:
    """For `search_index update`: build the index if missing (or built by an older schema), then catch up."""
    backend = get_backend()
    if not backend.exists() or not index_schema_is_current(backend):
        return "built", rebuild_index()
    return "updated", apply_pending_updates(wait=True)


@dataclass
class Drift:
    """How the index differs from the database."""

    missing: list[int] = field(default_factory=list)  # published, not in the index
    stale: list[int] = field(default_factory=list)  # indexed from an older version of the story
    extra: list[int] = field(default_factory=list)  # in the index, but not published (or gone)

    @property
    def clean(self) -> bool:
        return not (self.missing or self.stale or self.extra)


def find_drift() -> Drift:
    """Compare every indexable story's current document with what the index holds."""
    indexed = get_backend().document_fingerprints()
    drift = Drift()
    seen: set[int] = set()
    for document in iter_documents():
        story_id = document["id"]
        seen.add(story_id)
        if story_id not in indexed:
            drift.missing.append(story_id)
        elif indexed[story_id] != document["fingerprint"]:
            drift.stale.append(story_id)
    drift.extra = sorted(set(indexed) - seen)
    return drift


def fix_drift(drift: Drift) -> int:
    """Re-index the missing and stale stories and remove the extra ones; returns how many changed."""
    story_ids = set(drift.missing) | set(drift.stale) | set(drift.extra)
    if not story_ids:
        return 0
    with index_write_lock(wait=True):
        backend = get_backend()
        for chunk_start in range(0, len(story_ids), BATCH_SIZE):
            _update_stories(backend, set(sorted(story_ids)[chunk_start : chunk_start + BATCH_SIZE]))
    return len(story_ids)
