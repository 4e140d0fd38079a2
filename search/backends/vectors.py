"""The embedded index's vectors: a SQLite file beside the tantivy files of each build, searched exactly.

One row per story holds its vectors (the story, then each transcript segment). Exact search is a
single matrix product over every row: 10,000 generated stories (48,000 rows with their transcript
segments) are 75 MB; 100,000 are 743 MB and 72–121 ms a question on two busy cores
(bench/search.py), which is where an approximate index, or matching segments only for the closest
stories, would start to pay. Only the worker writes; readers keep the matrix in memory and pick up
changes from the `changes` log, so a web process reloads only the stories that changed since it
last looked.
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
        return self._matrix, self._owners, self._positions

    @property
    def story_count(self) -> int:
        with self._lock:
            self._refresh()
            return len(self._blocks)

    @property
    def nbytes(self) -> int:
        arrays = self._arrays()
        return 0 if arrays is None else sum(array.nbytes for array in arrays)

    def nearest(self, vector: np.ndarray, *, minimum: float, limit: int) -> list[NearStory]:
        """Stories whose closest row is at least `minimum` similar, closest first (at most `limit`).

        The same question asked again before the vectors change gets the remembered answer.
        """
        if limit <= 0:
            return []
        key = (vector.astype(np.float32).tobytes(), minimum, limit)
        with self._lock:
            arrays = self._current_arrays()
            if arrays is None:
                return []
            seen = self._seen_change
            remembered = self._answers.get(key)
            if remembered is not None:
                self._answers.move_to_end(key)
                return list(remembered)
        found = self._nearest(arrays, vector, minimum, limit)
        with self._lock:
            if self._seen_change != seen:  # the vectors changed meanwhile: this answer is already old
                return found
            self._answers[key] = found
            while len(self._answers) > REMEMBERED_ANSWERS:
                self._answers.popitem(last=False)
        return list(found)

    @staticmethod
    def _nearest(arrays, vector: np.ndarray, minimum: float, limit: int) -> list[NearStory]:
        matrix, owners, positions = arrays
        if matrix.shape[1] != vector.shape[0]:
            return []  # built with another model: meaningless until the vectors are recomputed
        similarities = matrix @ vector.astype(np.float32)
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
