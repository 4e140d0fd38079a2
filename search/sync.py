"""Keeping the index in step with the database: the durable queue, rebuilds, and drift checks.

Signal handlers only enqueue (search.models.PendingIndexUpdate). The worker calls
apply_pending_updates() every few seconds; it re-reads each queued story from the database, so the
index ends up matching whatever the story is now, however many times it changed. An update that
fails for its own sake (not an outage) is retried after a growing delay and parked after
settings.SEARCH_UPDATE_MAX_ATTEMPTS failures, so one bad story never keeps the worker busy.
One process at a time writes the index: every writer here takes the same lock file first.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Max
from django.utils import timezone

from search.backends import get_backend
from search.backends.base import SearchUnavailable
from search.documents import iter_documents
from search.embeddings import embed_waiting, with_vectors
from search.embeddings import enabled as meaning_enabled
from search.models import PendingIndexUpdate, StoryEmbedding
from storybank.redaction import redact_credentials

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
LOCK_FILE = ".index-writer.lock"
LONGEST_RETRY_DELAY = timedelta(hours=1)


def enqueue_stories(story_ids: Iterable[int], reason: str) -> int:
    """Queue these stories for re-indexing, inside the caller's transaction."""
    rows = [
        PendingIndexUpdate(story_id=story_id, reason=reason[:40]) for story_id in dict.fromkeys(story_ids)
    ]
    PendingIndexUpdate.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def pending_count() -> int:
    return PendingIndexUpdate.objects.count()


def retry_delay(attempts: int) -> timedelta:
    """How long an update refused `attempts` times waits: SEARCH_UPDATE_RETRY_SECONDS, doubling."""
    seconds = settings.SEARCH_UPDATE_RETRY_SECONDS * 2 ** min(max(attempts - 1, 0), 20)
    return min(timedelta(seconds=seconds), LONGEST_RETRY_DELAY)


def retry_parked(story_ids: Iterable[int] | None = None) -> int:
    """Put parked updates (all, or these stories') back in the queue for a fresh round of attempts."""
    parked = PendingIndexUpdate.objects.parked()
    if story_ids is not None:
        parked = parked.filter(story_id__in=list(story_ids))
    return parked.update(parked_at=None, next_attempt_at=None, attempts=0)


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
    """Apply the queued updates that are due; builds the index first when there is none.

    Returns how many stories were brought up to date. Never raises for an unavailable index: the
    rows stay queued and the next call retries. Each call tries a failing update at most once.
    """
    backend = get_backend()
    try:
        index_ready = backend.exists() and backend.schema_is_current()
    except SearchUnavailable as error:
        logger.warning("Search index unavailable; %d updates stay queued: %s", pending_count(), error)
        return 0
    if index_ready and not PendingIndexUpdate.objects.ready().exists():
        return 0  # the common case, every few seconds: one query
    with index_write_lock(wait=wait) as acquired:
        if not acquired:
            return 0
        try:
            if not (backend.exists() and backend.schema_is_current()):  # another writer may have built it
                return _rebuild_locked(None)
        except SearchUnavailable as error:
            logger.warning("Search index unavailable; cannot build it yet: %s", error)
            return 0
        applied = 0
        batches = 0
        last_pk = 0  # rows are visited in order, once per call: a failed one waits for the next call
        while max_batches is None or batches < max_batches:
            rows = list(PendingIndexUpdate.objects.ready().filter(pk__gt=last_pk).order_by("pk")[:BATCH_SIZE])
            if not rows:
                break
            batches += 1
            last_pk = rows[-1].pk
            try:
                applied += _apply_rows(backend, rows)
            except SearchUnavailable as error:
                _record_outage(rows, error)
                logger.warning("Search index unavailable; %d updates stay queued: %s", pending_count(), error)
                break
        return applied


def _apply_rows(backend, rows: list[PendingIndexUpdate]) -> int:
    """Index the stories of these rows; a story that fails is retried alone, then backed off."""
    story_ids = {row.story_id for row in rows}
    # Every row already committed for these stories is covered by the documents read below,
    # including ones waiting out a back-off or parked: they all go once the story is indexed.
    covered: dict[int, list[int]] = {}
    queued = PendingIndexUpdate.objects.filter(story_id__in=story_ids)
    for pk, story_id in queued.values_list("pk", "story_id"):
        covered.setdefault(story_id, []).append(pk)
    try:
        failures = _update_stories(backend, story_ids)
    except SearchUnavailable:
        raise
    except Exception:
        logger.exception("Index batch failed; retrying its stories one at a time")
    else:
        for story_id, error in failures.items():
            _record_refusal([row for row in rows if row.story_id == story_id], error)
        _forget(covered, story_ids - set(failures))
        return len(story_ids) - len(failures)
    applied = 0
    for story_id in sorted(story_ids):
        try:
            error = _update_stories(backend, {story_id}).get(story_id)
        except SearchUnavailable:
            raise
        except Exception as refused:
            error = refused
        if error is not None:
            _record_refusal([row for row in rows if row.story_id == story_id], error)
            continue
        _forget(covered, {story_id})
        applied += 1
    return applied


def _forget(covered: dict[int, list[int]], story_ids: set[int]) -> None:
    pks = [pk for story_id in story_ids for pk in covered.get(story_id, [])]
    PendingIndexUpdate.objects.filter(pk__in=pks).delete()


def _update_stories(backend, story_ids: set[int]) -> dict[int, Exception]:
    """Index these stories (removing the ones no longer indexable); returns those whose document failed.

    A story whose document cannot be built keeps whatever entry it had: readers who may not see
    it are protected by its queued row (search.service.waiting_updates), not by its entry.
    """
    failures: dict[int, Exception] = {}
    documents = list(with_vectors(iter_documents(story_ids, failures=failures)))
    indexed = {document["id"] for document in documents}
    backend.update(documents=documents, delete_ids=story_ids - indexed - set(failures))
    return failures


def _record_outage(rows: list[PendingIndexUpdate], error: Exception) -> None:
    """The engine could not be reached: not the update's fault, so it is neither delayed nor parked."""
    PendingIndexUpdate.objects.filter(pk__in=[row.pk for row in rows]).update(
        attempts=F("attempts") + 1, last_error=redact_credentials(error)[:2000]
    )


def _record_refusal(rows: list[PendingIndexUpdate], error: Exception) -> None:
    """This story's update failed: retry it later, or park it once it has failed too often."""
    now = timezone.now()
    attempts = max(row.attempts for row in rows) + 1
    parked = attempts >= settings.SEARCH_UPDATE_MAX_ATTEMPTS
    PendingIndexUpdate.objects.filter(pk__in=[row.pk for row in rows]).update(
        attempts=attempts,
        last_error=redact_credentials(f"{type(error).__name__}: {error}")[:2000],
        next_attempt_at=None if parked else now + retry_delay(attempts),
        parked_at=now if parked else None,
    )
    if parked:
        logger.error(
            "Index update of story %s failed %d times and is parked (`search_index retry`): %s",
            rows[0].story_id,
            attempts,
            error,
        )
    else:
        logger.warning("Index update of story %s failed (attempt %d): %s", rows[0].story_id, attempts, error)


def rebuild_index(progress: Callable[[int], None] | None = None) -> int:
    """Build a fresh index from every published story and swap it in; waits for any other writer."""
    with index_write_lock(wait=True):
        return _rebuild_locked(progress)


def _rebuild_locked(progress: Callable[[int], None] | None) -> int:
    # Updates queued before the build started are covered by it; later ones are applied afterwards.
    # A story whose document could not be built stays (or goes) in the queue, to be retried.
    covered_up_to = PendingIndexUpdate.objects.aggregate(last=Max("pk"))["last"]
    failures: dict[int, Exception] = {}
    count = get_backend().rebuild(with_vectors(iter_documents(failures=failures)), progress)
    if covered_up_to is not None:
        PendingIndexUpdate.objects.filter(pk__lte=covered_up_to).exclude(story_id__in=list(failures)).delete()
    if failures:
        queued = set(
            PendingIndexUpdate.objects.filter(story_id__in=list(failures)).values_list("story_id", flat=True)
        )
        enqueue_stories([story_id for story_id in failures if story_id not in queued], "could not be indexed")
        for story_id, error in failures.items():
            logger.error("Story %s was left out of the rebuilt index: %s", story_id, error)
    return count


def embed_waiting_stories() -> int:
    """A worker job: embed the next batch of waiting stories, then queue their index updates.

    Runs in its own thread beside apply_pending_updates, so a long embedding backlog (a fresh
    import of thousands of stories) never delays lexical updates.
    """
    embedded = embed_waiting()
    if embedded:
        enqueue_stories(embedded, "meaning indexed")
    return len(embedded)


def meaning_indexed() -> bool:
    """Whether meaning search covers the whole library: no story waits for its vectors, and no
    update (the one that carries new vectors among them) waits to reach the index.

    Parked updates do not count: they wait for a person (`search_index retry`), not for the worker.
    """
    if not meaning_enabled():
        return True
    return (
        not StoryEmbedding.objects.waiting().exists()
        and not PendingIndexUpdate.objects.filter(parked_at__isnull=True).exists()
    )


def ensure_index() -> tuple[str, int]:
    """For `search_index update`: build the index if missing (or built by an older schema), then catch up."""
    backend = get_backend()
    if not backend.exists() or not backend.schema_is_current():
        return "built", rebuild_index()
    return "updated", apply_pending_updates(wait=True)


@dataclass
class Drift:
    """How the index differs from the database."""

    missing: list[int] = field(default_factory=list)  # published, not in the index
    stale: list[int] = field(default_factory=list)  # indexed from an older version of the story
    extra: list[int] = field(default_factory=list)  # in the index, but not published (or gone)
    unreadable: list[int] = field(default_factory=list)  # published, but no document can be built

    @property
    def clean(self) -> bool:
        return not (self.missing or self.stale or self.extra or self.unreadable)


def find_drift() -> Drift:
    """Compare every indexable story's current document with what the index holds."""
    indexed = get_backend().document_fingerprints()
    drift = Drift()
    failures: dict[int, Exception] = {}
    seen: set[int] = set()
    for document in iter_documents(failures=failures):
        story_id = document["id"]
        seen.add(story_id)
        if story_id not in indexed:
            drift.missing.append(story_id)
        elif indexed[story_id] != document["fingerprint"]:
            drift.stale.append(story_id)
    drift.unreadable = sorted(failures)
    drift.extra = sorted(set(indexed) - seen - set(failures))
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
