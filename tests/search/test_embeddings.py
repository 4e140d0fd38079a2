"""The embedding model's loading and the vector store beside the embedded index."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from search import embeddings
from search.backends import vectors
from search.backends.vectors import VectorReader, write_vectors
from search.embeddings import Embedder


def test_a_question_never_waits_for_the_model_to_load(settings, monkeypatch):
    """While a web process loads the model, searches match words only instead of queueing behind it."""
    settings.EMBEDDING_MODEL = ""
    release = threading.Event()

    def slow_load(name, *, threads=None):
        release.wait(10)
        return object()

    monkeypatch.setattr(embeddings, "_load_model", slow_load)
    embedder = Embedder()
    embedder.load_in_background()
    started = time.monotonic()
    assert embedder.query_vector("equipment rusting") is None
    assert embedder.query_vector("equipment rusting") is None
    assert time.monotonic() - started < 1
    release.set()
    embedder._loading.join(5)
    assert embedder.ready


def test_web_processes_embed_each_question_on_one_thread(settings, monkeypatch):
    """Many requests at once, one short question each: threads per question only fight over the cores."""
    settings.EMBEDDING_MODEL = ""
    loaded_with = []
    monkeypatch.setattr(embeddings, "_load_model", lambda name, *, threads=None: loaded_with.append(threads))
    fresh = Embedder()
    monkeypatch.setattr(embeddings, "embedder", fresh)
    embeddings.warm_up()
    fresh._loading.join(5)
    assert loaded_with == [embeddings.QUESTION_THREADS] == [1]
    Embedder().load()  # the worker's embedder keeps torch's own default
    assert loaded_with == [1, None]


def test_a_question_asked_again_with_other_spacing_is_embedded_once(meaning_search, monkeypatch):
    asked = []
    encode = meaning_search.encode
    monkeypatch.setattr(meaning_search, "encode", lambda texts: asked.append(texts) or encode(texts))
    meaning_search.forget_questions()

    first = meaning_search.query_vector("Who knows about  equipment\nrusting?")
    again = meaning_search.query_vector("  Who knows about equipment rusting? ")

    assert asked == [["Who knows about equipment rusting?"]]
    assert again is first
    assert meaning_search.query_vector(" \n ") is None


def test_off_means_no_vector_and_no_loading(settings):
    settings.EMBEDDING_MODEL = "off"
    embedder = Embedder()
    assert embedder.query_vector("anything") is None
    assert embedder._loading is None and not embedder.ready


def unit(*values) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_the_vector_reader_follows_changes_and_ranks_stories_by_their_closest_row(tmp_path):
    write_vectors(tmp_path, [(1, np.stack([unit(1, 0), unit(0, 1)])), (2, np.stack([unit(1, 1)]))])
    reader = VectorReader(tmp_path)
    near = reader.nearest(unit(0, 1), minimum=0.5, limit=5)
    assert [(story.story_id, story.position) for story in near] == [(1, 1), (2, 0)]
    assert near[0].similarity == pytest.approx(1.0)
    near.clear()  # a caller changing its answer does not change the one remembered for the next
    assert [
        (story.story_id, story.position) for story in reader.nearest(unit(0, 1), minimum=0.5, limit=5)
    ] == [
        (1, 1),
        (2, 0),
    ]
    # Another process replaces story 2 and deletes story 1: the reader picks up just those changes.
    write_vectors(tmp_path, [(2, np.stack([unit(0, 1)]))], delete_ids=[1])
    assert [
        (story.story_id, story.position) for story in reader.nearest(unit(0, 1), minimum=0.5, limit=5)
    ] == [(2, 0)]
    assert reader.story_count == 1
    assert reader.nearest(unit(1, 0), minimum=0.5, limit=5) == []


def clustered_library(rng, stories: int, topics: int, dimensions: int = 32):
    """Story vectors gathered around `topics` directions, as a library's stories gather around what they are about."""
    centres = rng.normal(size=(topics, dimensions)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    library = []
    for story_id in range(1, stories + 1):
        rows = centres[rng.integers(topics, size=2)] + rng.normal(scale=0.35, size=(2, dimensions))
        library.append((story_id, (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)))
    return centres, library


def test_a_large_store_is_searched_in_the_nearest_clusters_and_finds_what_an_exact_scan_finds(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(vectors, "APPROXIMATE_FROM_ROWS", 4000)
    rng = np.random.default_rng(7)
    centres, library = clustered_library(rng, stories=3000, topics=40)
    write_vectors(tmp_path, library)
    reader = VectorReader(tmp_path)
    assert reader.approximate

    overlaps = []
    for centre in centres[:20]:
        question = centre + rng.normal(scale=0.1, size=centre.shape).astype(np.float32)
        question /= np.linalg.norm(question)
        approximate = [story.story_id for story in reader.nearest(question, minimum=0.3, limit=10)]
        exact = [story.story_id for story in reader.nearest(question, minimum=0.3, limit=10, exact=True)]
        assert len(exact) == 10
        overlaps.append(len(set(approximate) & set(exact)) / len(exact))
    assert np.mean(overlaps) >= 0.9, overlaps


def test_stories_written_after_the_clustering_are_found_and_deleted_ones_are_not(tmp_path, monkeypatch):
    monkeypatch.setattr(vectors, "APPROXIMATE_FROM_ROWS", 4000)
    rng = np.random.default_rng(11)
    centres, library = clustered_library(rng, stories=2500, topics=30)
    write_vectors(tmp_path, library)
    reader = VectorReader(tmp_path)
    question = centres[3]
    assert reader.nearest(question, minimum=0.3, limit=3)  # clustered now

    write_vectors(tmp_path, [(9001, np.stack([question]))], delete_ids=[1])
    near = reader.nearest(question, minimum=0.3, limit=3)
    assert near[0].story_id == 9001 and near[0].similarity == pytest.approx(1.0)
    assert all(story.story_id != 1 for story in reader.nearest(library[0][1][0], minimum=0.0, limit=50))
    assert reader.approximate and reader.story_count == 2500
    # The rows kept and the rows added were sorted into their clusters again: the nearest clusters
    # still hold what an exact scan finds.
    for centre in centres[:10]:
        approximate = {story.story_id for story in reader.nearest(centre, minimum=0.3, limit=10)}
        exact = {story.story_id for story in reader.nearest(centre, minimum=0.3, limit=10, exact=True)}
        assert len(approximate & exact) >= 8, (approximate, exact)


def test_a_small_store_is_scanned_exactly(tmp_path):
    write_vectors(tmp_path, [(1, np.stack([unit(1, 0)]))])
    assert not VectorReader(tmp_path).approximate
