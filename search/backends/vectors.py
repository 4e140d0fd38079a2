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
    """The rows of each cluster, for one matrix: `rows[bounds[c]:bounds[c + 1]]` are cluster c's."""

    clusters: Clusters
    rows: np.ndarray
    bounds: np.ndarray

    @classmethod
    def of(cls, clusters: Clusters, assigned: np.ndarray) -> InvertedLists:
        rows = np.argsort(assigned, kind="stable").astype(np.int64)
        bounds = np.searchsorted(assigned[rows], np.arange(len(clusters.centroids) + 1))
        return cls(clusters, rows, bounds)

    def candidates(self, vector: np.ndarray, probes: int) -> np.ndarray:
        """The rows of the `probes` clusters nearest to `vector`."""
        scores = self.clusters.centroids @ vector
        probes = min(probes, len(scores))
        chosen = np.argpartition(-scores, probes - 1)[:probes]
        return np.concatenate([self.rows[self.bounds[c] : self.bounds[c + 1]] for c in chosen])


class VectorReader:
    """The vectors of one build, in memory, brought up to date from the change log before each search."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / VECTORS_FILE
        self._lock = threading.Lock()
        self._blocks: dict[int, np.ndarray] = {}
        self._seen_change = -1
        self._matrix: np.ndarray | None = None
        self._owners = np.zeros(0, dtype=np.int64)
        self._positions = np.zeros(0, dtype=np.int32)
        self._answers: OrderedDict[tuple, list[NearStory]] = OrderedDict()
        # Past APPROXIMATE_FROM_ROWS: the clusters, each story's rows' clusters, the current lists.
        self._clusters: Clusters | None = None
        self._assigned: dict[int, np.ndarray] = {}
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
                    self._blocks.pop(story_id, None)
                    self._assigned.pop(story_id, None)
                rows = []
                for start in range(0, len(changed), 500):
                    chunk = changed[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    rows += connection.execute(
                        f"SELECT story_id, dimensions, data FROM vectors WHERE story_id IN ({marks})", chunk
                    ).fetchall()
            for story_id, dimensions, data in rows:
                self._blocks[story_id] = np.frombuffer(data, dtype=np.float32).reshape(-1, dimensions)
            self._seen_change = last
            self._matrix = None
            self._answers.clear()
        finally:
            connection.close()

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        with self._lock:
            return self._current_arrays()

    def _current_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The matrix, its rows' owners and positions, up to date (call with the lock held)."""
        self._refresh()
        if not self._blocks:
            return None
        if self._matrix is None:
            blocks = list(self._blocks.items())
            self._matrix = np.concatenate([vectors for _, vectors in blocks])
            self._owners = np.concatenate(
                [np.full(len(vectors), story_id, dtype=np.int64) for story_id, vectors in blocks]
            )
            self._positions = np.concatenate(
                [np.arange(len(vectors), dtype=np.int32) for _, vectors in blocks]
            )
            # Each story's rows become a view of the matrix: the vectors are held once, not twice.
            offset = 0
            for story_id, vectors in blocks:
                self._blocks[story_id] = self._matrix[offset : offset + len(vectors)]
                offset += len(vectors)
            self._lists = self._inverted_lists(blocks)
        return self._matrix, self._owners, self._positions

    def _inverted_lists(self, blocks: list[tuple[int, np.ndarray]]) -> InvertedLists | None:
        """Past APPROXIMATE_FROM_ROWS rows: cluster once, then assign only the stories not assigned yet."""
        if len(self._matrix) < APPROXIMATE_FROM_ROWS:
            return None
        if self._clusters is None or self._clusters.centroids.shape[1] != self._matrix.shape[1]:
            self._clusters = Clusters(self._matrix)
            self._assigned.clear()
        waiting = [story_id for story_id, _ in blocks if story_id not in self._assigned]
        if waiting:
            assigned = self._clusters.assign(np.concatenate([self._blocks[story_id] for story_id in waiting]))
            offset = 0
            for story_id in waiting:
                rows = len(self._blocks[story_id])
                self._assigned[story_id] = assigned[offset : offset + rows]
                offset += rows
        return InvertedLists.of(
            self._clusters, np.concatenate([self._assigned[story_id] for story_id, _ in blocks])
        )

    @property
    def story_count(self) -> int:
        with self._lock:
            self._refresh()
            return len(self._blocks)

    @property
    def nbytes(self) -> int:
        arrays = self._arrays()
        if arrays is None:
            return 0
        lists = self._lists
        extra = 0 if lists is None else lists.rows.nbytes + lists.clusters.centroids.nbytes
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
            rows = lists.candidates(vector, PROBED_CLUSTERS)
            matrix, owners, positions = matrix[rows], owners[rows], positions[rows]
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
