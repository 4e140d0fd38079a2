"""The embedded index's vectors: a SQLite file beside the tantivy files of each build.

One row per story holds its vectors (the story, then each transcript segment). Only the worker
writes; readers keep the matrix in memory and pick up changes from the `changes` log, so a web
process reloads only the stories that changed since it last looked.

Up to APPROXIMATE_FROM_ROWS rows a question is compared with every row (one matrix product:
10,000 generated stories, 48,000 rows, are 75 MB). Past that the scan is memory-bound (100,000
stories, 480,000 rows, 737 MB: 85–169 ms a question on two cores), so the reader clusters the
rows once (spherical k-means on a sample, `Clusters`) and compares a question only with the rows
of its PROBED_CLUSTERS nearest clusters: an inverted-file index, in numpy, built in the reader
because the clustering takes seconds, not the minutes an HNSW graph took (bench/search.py).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VECTORS_FILE = "vectors.sqlite3"
# Answers kept per reader: a page and its "Who knows about this?" panel ask the same question twice.
REMEMBERED_ANSWERS = 16
APPROXIMATE_FROM_ROWS = 50_000
PROBED_CLUSTERS = 24
TRAINING_ROWS_PER_CLUSTER = 40
KMEANS_ROUNDS = 8
ASSIGN_CHUNK_ROWS = 32_768


@dataclass(frozen=True)
class NearStory:
    """A story close in meaning to a question: how close, and which of its rows was closest."""

    story_id: int
    similarity: float
    position: int  # 0 = the story itself; n = its n-th transcript segment (counting from 1)


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(
        "CREATE TABLE IF NOT EXISTS vectors (story_id INTEGER PRIMARY KEY, dimensions INTEGER, data BLOB)"
    )
    connection.execute(
        "CREATE TABLE IF NOT EXISTS changes (sequence INTEGER PRIMARY KEY AUTOINCREMENT, story_id INTEGER)"
    )
    return connection


def write_vectors(
    folder: Path, stories: Iterable[tuple[int, np.ndarray]], delete_ids: Iterable[int] = ()
) -> None:
    """Store (story id, vectors) pairs and forget `delete_ids`, in one transaction (the worker's job)."""
    connection = _connect(Path(folder) / VECTORS_FILE)
    try:
        connection.execute("BEGIN IMMEDIATE")
        for story_id in delete_ids:
            connection.execute("DELETE FROM vectors WHERE story_id = ?", (int(story_id),))
            connection.execute("INSERT INTO changes (story_id) VALUES (?)", (int(story_id),))
        for story_id, vectors in stories:
            matrix = np.ascontiguousarray(vectors, dtype=np.float32)
            connection.execute(
                "INSERT OR REPLACE INTO vectors (story_id, dimensions, data) VALUES (?, ?, ?)",
                (int(story_id), int(matrix.shape[1]), matrix.tobytes()),
            )
            connection.execute("INSERT INTO changes (story_id) VALUES (?)", (int(story_id),))
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    finally:
        connection.close()


class Clusters:
    """Centroids of a set of unit vectors (spherical k-means on a sample), and which cluster each row is in.

    About √rows clusters: a question then reads √rows centroids and PROBED_CLUSTERS of √rows
    rows each, a few per cent of the matrix. Centroids are kept for the reader's life (a build);
    rows added later are assigned to the nearest one.
    """

    def __init__(self, matrix: np.ndarray, seed: int = 0):
        count = max(1, int(np.sqrt(len(matrix))))
        rng = np.random.default_rng(seed)
        sample_size = min(len(matrix), count * TRAINING_ROWS_PER_CLUSTER)
        sample = matrix[np.sort(rng.choice(len(matrix), sample_size, replace=False))]
        centroids = sample[rng.choice(len(sample), count, replace=False)].copy()
        for _ in range(KMEANS_ROUNDS):
            nearest = np.argmax(sample @ centroids.T, axis=1)
            order = np.argsort(nearest, kind="stable")
            chosen = nearest[order]
            starts = np.flatnonzero(np.r_[True, chosen[1:] != chosen[:-1]])
            sums = centroids.copy()  # a cluster nobody chose keeps its centroid
            sums[chosen[starts]] = np.add.reduceat(sample[order], starts, axis=0)
            centroids = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        self.centroids = centroids.astype(np.float32)

    def assign(self, rows: np.ndarray) -> np.ndarray:
        """The nearest centroid of each row, in chunks (a whole matrix at once would need gigabytes)."""
        assigned = np.empty(len(rows), dtype=np.int32)
        for start in range(0, len(rows), ASSIGN_CHUNK_ROWS):
            chunk = rows[start : start + ASSIGN_CHUNK_ROWS]
            assigned[start : start + len(chunk)] = np.argmax(chunk @ self.centroids.T, axis=1)
        return assigned


@dataclass
class InvertedLists:
    """Where each cluster's rows lie in a matrix kept in cluster order: `bounds[c]:bounds[c + 1]`."""

    clusters: Clusters
    bounds: np.ndarray

    def candidates(self, vector: np.ndarray, probes: int) -> list[tuple[int, int]]:
        """The row ranges of the `probes` clusters nearest to `vector`, in matrix order."""
        scores = self.clusters.centroids @ vector
        probes = min(probes, len(scores))
        chosen = np.sort(np.argpartition(-scores, probes - 1)[:probes])
        return [
            (int(self.bounds[c]), int(self.bounds[c + 1]))
            for c in chosen
            if self.bounds[c + 1] > self.bounds[c]
        ]


class VectorReader:
    """The vectors of one build, in memory, brought up to date from the change log before each search.

    The rows are held once, in one matrix with each row's story, position and (when clustered)
    cluster beside it. Past APPROXIMATE_FROM_ROWS the matrix is kept sorted by cluster, so a
    question reads its nearest clusters as a few contiguous slices: gathering the same rows
    scattered over the matrix took most of the time of a meaning search at 100,000 stories. A
    change keeps the rows of the stories that did not change, adds the new ones (assigned to
    their nearest centroid) and sorts again.
    """

    def __init__(self, folder: Path):
        self.path = Path(folder) / VECTORS_FILE
        self._lock = threading.Lock()
        self._seen_change = -1
        # Read from the file and not yet in the matrix: stories whose rows go, and their new rows.
        self._changed: set[int] = set()
        self._fresh: dict[int, np.ndarray] = {}
        self._matrix: np.ndarray | None = None
        self._owners = np.zeros(0, dtype=np.int64)
        self._positions = np.zeros(0, dtype=np.int32)
        self._answers: OrderedDict[tuple, list[NearStory]] = OrderedDict()
        # Past APPROXIMATE_FROM_ROWS: the clusters, each row's cluster, and where each cluster lies.
        self._clusters: Clusters | None = None
        self._assigned: np.ndarray | None = None
        self._lists: InvertedLists | None = None

    def _refresh(self) -> None:
        if not self.path.exists():
            return
        connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30)
        try:
            last = connection.execute("SELECT coalesce(max(sequence), 0) FROM changes").fetchone()[0]
            if last == self._seen_change:
                return
            if self._seen_change < 0:
                rows = connection.execute("SELECT story_id, dimensions, data FROM vectors").fetchall()
            else:
                changed = [
                    story_id
                    for (story_id,) in connection.execute(
                        "SELECT DISTINCT story_id FROM changes WHERE sequence > ?", (self._seen_change,)
                    )
                ]
                for story_id in changed:
                    self._changed.add(story_id)
                    self._fresh.pop(story_id, None)
                rows = []
                for start in range(0, len(changed), 500):
                    chunk = changed[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    rows += connection.execute(
                        f"SELECT story_id, dimensions, data FROM vectors WHERE story_id IN ({marks})", chunk
                    ).fetchall()
            for story_id, dimensions, data in rows:
                self._fresh[story_id] = np.frombuffer(data, dtype=np.float32).reshape(-1, dimensions)
            self._seen_change = last
            self._answers.clear()
        finally:
            connection.close()

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        with self._lock:
            return self._current_arrays()

    def _current_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The matrix, its rows' owners and positions, up to date (call with the lock held)."""
        self._refresh()
        if self._changed or self._fresh or self._matrix is None:
            self._apply_changes()
        if self._matrix is None or not len(self._matrix):
            return None
        return self._matrix, self._owners, self._positions

    def _apply_changes(self) -> None:
        """Keep the rows of the stories that did not change, add the new rows, re-sort by cluster."""
        kept = slice(None)
        if self._matrix is not None and self._changed:
            kept = ~np.isin(self._owners, np.fromiter(self._changed, dtype=np.int64))
        fresh = list(self._fresh.items())
        old = [] if self._matrix is None else [self._matrix[kept]]
        matrix = np.concatenate(old + [vectors for _, vectors in fresh]) if old or fresh else None
        self._changed, self._fresh = set(), {}
        if matrix is None or not len(matrix):
            self._matrix, self._assigned, self._lists = None, None, None
            self._owners = np.zeros(0, dtype=np.int64)
            self._positions = np.zeros(0, dtype=np.int32)
            return
        owners = np.concatenate(
            ([self._owners[kept]] if old else [])
            + [np.full(len(vectors), story_id, dtype=np.int64) for story_id, vectors in fresh]
        )
        positions = np.concatenate(
            ([self._positions[kept]] if old else [])
            + [np.arange(len(vectors), dtype=np.int32) for _, vectors in fresh]
        )
        self._matrix, self._owners, self._positions = matrix, owners, positions
        self._cluster(kept if old else None, len(matrix) - sum(len(vectors) for _, vectors in fresh))

    def _cluster(self, kept, fresh_from: int) -> None:
        """Past APPROXIMATE_FROM_ROWS rows: cluster once, assign only the new rows, sort by cluster."""
        matrix = self._matrix
        if len(matrix) < APPROXIMATE_FROM_ROWS:
            self._assigned, self._lists = None, None
            return
        if (
            self._clusters is None
            or self._clusters.centroids.shape[1] != matrix.shape[1]
            or self._assigned is None
        ):
            self._clusters = Clusters(matrix)
            assigned = self._clusters.assign(matrix)
        else:
            assigned = np.concatenate([self._assigned[kept], self._clusters.assign(matrix[fresh_from:])])
        order = np.argsort(assigned, kind="stable")
        self._matrix = matrix[order]
        self._owners, self._positions = self._owners[order], self._positions[order]
        self._assigned = assigned[order]
        bounds = np.searchsorted(self._assigned, np.arange(len(self._clusters.centroids) + 1))
        self._lists = InvertedLists(self._clusters, bounds)

    @property
    def story_count(self) -> int:
        """Stories with vectors: each has exactly one row at position 0 (the story itself)."""
        arrays = self._arrays()
        return 0 if arrays is None else int(np.count_nonzero(arrays[2] == 0))

    @property
    def nbytes(self) -> int:
        arrays = self._arrays()
        if arrays is None:
            return 0
        extra = 0
        if self._lists is not None:
            extra = self._assigned.nbytes + self._lists.bounds.nbytes + self._lists.clusters.centroids.nbytes
        return sum(array.nbytes for array in arrays) + extra

    @property
    def approximate(self) -> bool:
        """Whether questions are compared with the nearest clusters' rows only (past APPROXIMATE_FROM_ROWS)."""
        with self._lock:
            self._current_arrays()
            return self._lists is not None

    def nearest(
        self, vector: np.ndarray, *, minimum: float, limit: int, exact: bool = False
    ) -> list[NearStory]:
        """Stories whose closest row is at least `minimum` similar, closest first (at most `limit`).

        Past APPROXIMATE_FROM_ROWS rows only the rows of the nearest clusters are compared, unless
        `exact` (the benchmark measures what that misses). The same question asked again before
        the vectors change gets the remembered answer.
        """
        if limit <= 0:
            return []
        key = (vector.astype(np.float32).tobytes(), minimum, limit, exact)
        with self._lock:
            arrays = self._current_arrays()
            if arrays is None:
                return []
            lists = None if exact else self._lists
            seen = self._seen_change
            remembered = self._answers.get(key)
            if remembered is not None:
                self._answers.move_to_end(key)
                return list(remembered)
        found = self._nearest(arrays, vector, minimum, limit, lists)
        with self._lock:
            if self._seen_change != seen:  # the vectors changed meanwhile: this answer is already old
                return found
            self._answers[key] = found
            while len(self._answers) > REMEMBERED_ANSWERS:
                self._answers.popitem(last=False)
        return list(found)

    @staticmethod
    def _nearest(
        arrays, vector: np.ndarray, minimum: float, limit: int, lists: InvertedLists | None = None
    ) -> list[NearStory]:
        matrix, owners, positions = arrays
        if matrix.shape[1] != vector.shape[0]:
            return []  # built with another model: meaningless until the vectors are recomputed
        vector = vector.astype(np.float32)
        if lists is not None:
            ranges = lists.candidates(vector, PROBED_CLUSTERS)
            if not ranges:
                return []
            similarities = np.concatenate([matrix[start:stop] @ vector for start, stop in ranges])
            rows = np.concatenate([np.arange(start, stop) for start, stop in ranges])
            owners, positions = owners[rows], positions[rows]
        else:
            similarities = matrix @ vector
        above = np.flatnonzero(similarities >= minimum)
        if not len(above):
            return []
        # A story can own several rows: look at enough of the closest rows to find `limit` stories.
        wanted = min(len(above), limit * 8)
        closest = above[np.argpartition(-similarities[above], wanted - 1)[:wanted]]
        closest = closest[np.argsort(-similarities[closest], kind="stable")]
        found: dict[int, NearStory] = {}
        for row in closest:
            story_id = int(owners[row])
            if story_id not in found:
                found[story_id] = NearStory(story_id, float(similarities[row]), int(positions[row]))
                if len(found) >= limit:
                    break
        return list(found.values())
