"""Search benchmark: the embedded index, words only and hybrid, next to Wagtail's database search.

    .venv/bin/python bench/search.py                   # 10,000 then 100,000 stories
    .venv/bin/python bench/search.py --sizes 10000     # just 10,000
    .venv/bin/python bench/search.py --postgres-url postgres:///storybank_bench   # Wagtail on PostgreSQL too
    .venv/bin/python bench/search.py --sizes 100000 --keep --queries 80          # keep the folder...
    .venv/bin/python bench/search.py --reuse FOLDER --queries 80                 # ...and time it again

It works in a throwaway folder (its own SQLite database and index directory), imports generated
stories through the real bulk importer, adds transcripts to one story in five, and rebuilds the
index with `search.sync.rebuild_index` twice, timed in stories per second: with EMBEDDING_MODEL
off (words only) and with every story's vectors attached from the database. It then times a mixed
query set — text, text + facet filters, facet filters only, autocomplete — through the service
(`search_stories`: query, facet counts with other-filters semantics, highlights, the database
re-check of the hits) and through /api/search/ (the JSON view, via Django's test client), each
three ways: words only, hybrid with the question embedded by the model on every query (its cache
emptied first), and hybrid with the question's vector already cached. Questions are embedded as a
web process embeds them, on one torch thread (search.embeddings.QUESTION_THREADS).

Meaning search needs every story embedded, which the bundled model does at tens of stories a
second on two cores — hours for 100,000. So the real model embeds only a sample (--embed-sample,
through `search.embeddings.embed_waiting`, the worker's batches, saved as it goes) to measure the
rate and project the time; the timed runs use stand-in vectors of the model's dimension, one per
story and transcript segment, saved as StoryEmbedding rows for the story's current text so the
rebuild attaches them exactly as it would real ones. Exact search is a matrix product whose cost
does not depend on the values; what follows it does (how many rows clear the similarity floor and
go on to be fused), and purely random vectors would clear none. So each stand-in is a random unit
vector pulled toward one of the benchmark's questions (similarity about 0.45): every text question
then fills its meaning candidates, as in a library where many stories are about what is asked.
The output prints how many stories clear the floor per question.

Wagtail's backend only answers the text and autocomplete queries (it has no facet counts); for a
fair text comparison its StoryPage search fields are widened here to title, context, aha and outcome.
Wagtail queries still running after --wagtail-limit seconds are cut off and counted at the limit.
With --postgres-url (an empty database made for this: `createdb storybank_bench`, dropped
afterwards by whoever made it) the same stories are imported into PostgreSQL by a second run of
this script, and Wagtail's database search is timed there too, as a production site would use it.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from benchenv import DOMAIN_WORDS, configure, print_machine

SYLLABLES = [
    "ka", "lo", "mi", "ten", "ra", "sul", "vo", "bri", "gan", "de", "pho", "ix", "ne", "tor", "sa",
    "mu", "le", "qua", "dri", "fen", "ost", "pa", "ri", "zel", "cho", "bu", "nar", "vi", "ste", "ul",
]  # fmt: skip


class StoryGenerator:
    """Deterministic, Zipf-distributed words: a few common words, a long tail of rare ones."""

    def __init__(self, seed: int = 7):
        self.random = random.Random(seed)
        invented = {
            "".join(self.random.choice(SYLLABLES) for _ in range(self.random.randint(2, 4)))
            for _ in range(6000)
        }
        self.words = list(dict.fromkeys(DOMAIN_WORDS + sorted(invented)))
        self.weights = [1 / (rank + 1) for rank in range(len(self.words))]
        self.themes = [f"Theme {word.title()}" for word in self.words[:40]]
        self.outcomes = [f"{word.title()} outcome" for word in self.words[40:52]]
        self.people = [
            f"{self.random.choice(self.words[100:600]).title()} {self.random.choice(self.words[600:1600]).title()}"
            for _ in range(2500)
        ]
        self.people = list(dict.fromkeys(self.people))

    def text(self, words: int) -> str:
        return " ".join(self.random.choices(self.words, self.weights, k=words)).capitalize() + "."

    def record(self, number: int) -> dict:
        chance = self.random
        return {
            "external_id": f"bench-{number}",
            "title": self.text(chance.randint(5, 10)).rstrip("."),
            "teller": chance.choice(self.people),
            "people": chance.sample(self.people, chance.randint(0, 3)),
            "themes": chance.sample(self.themes, chance.randint(1, 3)),
            "outcomes": chance.sample(self.outcomes, chance.randint(0, 2)),
            "context": self.text(chance.randint(40, 90)),
            "aha": self.text(chance.randint(30, 70)),
            "outcome": self.text(chance.randint(30, 70)),
            "occurred_on": f"{chance.randint(2012, 2026)}-{chance.randint(1, 12):02d}-{chance.randint(1, 28):02d}",
            "visibility": "staff" if chance.random() < 0.15 else "public",
            "publish": True,
            "consent": True,
        }

    def segments(self) -> list[tuple[float, float, str]]:
        start, found = 0.0, []
        for _ in range(self.random.randint(8, 30)):
            length = self.random.uniform(2.0, 8.0)
            found.append((round(start, 2), round(start + length, 2), self.text(self.random.randint(6, 18))))
            start += length
        return found


def import_stories(generator: StoryGenerator, first: int, count: int) -> float:
    from stories.importing import import_records
    from stories.models import StoryPage, TranscriptSegment

    started = time.perf_counter()
    report = import_records((number, generator.record(number)) for number in range(first, first + count))
    if report.errors:
        raise SystemExit(f"import failed: {report.errors[:3]}")
    new_ids = list(
        StoryPage.objects.filter(
            external_id__in=[f"bench-{n}" for n in range(first, first + count, 5)]
        ).values_list("pk", flat=True)
    )
    rows = [
        TranscriptSegment(story_id=story_id, sort_order=order, start=start, end=end, text=text)
        for story_id in new_ids
        for order, (start, end, text) in enumerate(generator.segments())
    ]
    TranscriptSegment.objects.bulk_create(rows, batch_size=2000)
    StoryPage.objects.filter(external_id__in=[f"bench-{n}" for n in range(first, first + count, 5)]).update(
        source="voice"
    )
    return time.perf_counter() - started


def index_in_wagtail() -> float:
    """Index every story in Wagtail's database backend, with the same text fields our index searches."""
    from wagtail.models import Page
    from wagtail.search import index
    from wagtail.search.backends import get_search_backend

    from stories.models import StoryPage

    StoryPage.search_fields = Page.search_fields + [
        index.SearchField("context"),
        index.SearchField("aha", boost=3),
        index.SearchField("outcome", boost=2),
        index.FilterField("visibility"),
    ]
    backend = get_search_backend()
    started = time.perf_counter()
    backend.reset_indexes()
    index_obj = backend.get_index_for_model(StoryPage)
    queryset = StoryPage.objects.live().order_by("pk")
    last = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last)[:2000])
        if not chunk:
            break
        index_obj.add_items(StoryPage, chunk)
        last = chunk[-1].pk
    return time.perf_counter() - started


def query_set(generator: StoryGenerator, count: int) -> list[tuple[str, dict]]:
    """A reproducible mix: text, text + facets, facets only, autocomplete."""
    from stories.models import Person, Theme

    chance = random.Random(11)
    themes = list(Theme.objects.values_list("slug", flat=True))
    people = list(Person.objects.values_list("slug", flat=True)[:500])
    common, rare = generator.words[:300], generator.words[300:4000]
    queries = []
    for number in range(count):
        kind = ("text", "text+facets", "facets", "autocomplete")[number % 4]
        words = [chance.choice(common)] + ([chance.choice(rare)] if chance.random() < 0.3 else [])
        if chance.random() < 0.3:
            words = [chance.choice(rare)]
        text = " ".join(words)
        if kind == "text":
            queries.append((kind, {"q": text, "sort": chance.choice(["relevance", "relevance", "newest"])}))
        elif kind == "text+facets":
            queries.append(
                (
                    kind,
                    {"q": words[0], "theme": chance.choice(themes), "year": str(chance.randint(2012, 2026))},
                )
            )
        elif kind == "facets":
            params = {"theme": chance.sample(themes, chance.randint(1, 2))}
            if chance.random() < 0.5:
                params["person"] = chance.choice(people)
            if chance.random() < 0.5:
                params["sort"] = "helpful"
            queries.append((kind, params))
        else:
            word = chance.choice(common + rare[:300])
            queries.append((kind, {"q": word[: chance.randint(2, max(2, len(word)))]}))
    return queries


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


class QueryTimedOut(Exception):
    pass


def time_queries(queries, run) -> tuple[dict[str, list[float]], dict[str, int], dict[str, list[float]]]:
    """Wall-clock and CPU milliseconds by kind; a query cut off at the time limit counts as the limit.

    CPU time (this process, all threads) is what a query costs whatever else the machine is doing;
    on a shared machine the wall-clock time also includes waiting for a free core.
    """
    timings: dict[str, list[float]] = {}
    cpu_timings: dict[str, list[float]] = {}
    timeouts: dict[str, int] = {}
    for kind, params in queries[:8]:
        try:
            run(kind, params)  # warm caches
        except QueryTimedOut:
            pass
    for kind, params in queries:
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            answered = run(kind, params)
        except QueryTimedOut:
            answered = True
            timeouts[kind] = timeouts.get(kind, 0) + 1
            timeouts["all"] = timeouts.get("all", 0) + 1
        elapsed = (time.perf_counter() - started) * 1000
        cpu = (time.process_time() - cpu_started) * 1000
        if answered:
            for key in (kind, "all"):
                timings.setdefault(key, []).append(elapsed)
                cpu_timings.setdefault(key, []).append(cpu)
    return timings, timeouts, cpu_timings


# Stand-in vectors: the bundled model's dimension, and how far each is pulled toward a question.
VECTOR_DIMENSIONS = 384
PULL_TOWARD_QUESTION = 0.45
MODES = {
    "lexical": "words only",
    "hybrid": "hybrid, question embedded",
    "hybrid-cached": "hybrid, question cached",
}


def resident_bytes() -> int:
    """This process's resident memory (Linux), to see what loading the vectors costs."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def megabytes(count: int) -> str:
    return f"{count / 1_000_000:,.0f} MB"


def words_only():
    """EMBEDDING_MODEL=off for the duration: no vectors attached, no question embedded."""
    from django.test import override_settings

    from search.embeddings import DISABLED

    return override_settings(EMBEDDING_MODEL=DISABLED)


def unlogged_sql():
    """DEBUG off for the duration: with it on, Django keeps every statement's text, vector blobs and all."""
    from django.test import override_settings

    return override_settings(DEBUG=False)


def timed_rebuild() -> tuple[int, float]:
    from search.sync import rebuild_index

    started = time.perf_counter()
    count = rebuild_index()
    return count, time.perf_counter() - started


def questions_of(queries) -> list[str]:
    """The distinct texts of the queries that meaning search answers (text, with or without facets)."""
    return list(dict.fromkeys(params["q"] for kind, params in queries if kind in ("text", "text+facets")))


def measure_embedding(sample: int, sizes: list[int]) -> None:
    """Embed `sample` stories for real, through the worker's batches, and project the time for each size."""
    from search.documents import indexable_stories, iter_documents
    from search.embeddings import BATCH_SIZE, embed_waiting, embedding_progress, passages, with_vectors

    story_ids = list(indexable_stories().order_by("pk").values_list("pk", flat=True)[:sample])
    passage_count = sum(len(passages(document)) for document in with_vectors(iter_documents(story_ids)))
    print(f"  embedding {len(story_ids)} stories ({passage_count} passages) for real, {BATCH_SIZE} a batch:")
    started, done, batches = time.perf_counter(), 0, 0
    while embedded := embed_waiting():
        done, batches = done + len(embedded), batches + 1
        if batches % 3 == 1:
            progress = embedding_progress()
            print(
                f"    after {time.perf_counter() - started:5.1f}s: {progress['embedded']} embedded,"
                f" {progress['waiting']} waiting (saved as it goes: a stopped worker resumes here)"
            )
    seconds = time.perf_counter() - started
    rate = done / seconds
    print(
        f"  embedding: {done} stories in {seconds:.1f}s = {rate:.1f} stories/s"
        f" ({passage_count / seconds:.0f} passages/s)"
    )
    for size in sorted(sizes):
        print(f"    at this rate {size:,} stories take {size / rate / 3600:.1f} h of the worker's time")


def store_bench_vectors(question_vectors, seed: int) -> tuple[int, int, float]:
    """Save stand-in vectors for every indexable story's current text; returns (stories, rows, seconds).

    Each row is a seeded random unit vector pulled toward one question (see the module docstring),
    saved under the digest of the story's current passages so `with_vectors` attaches it.
    """
    import numpy as np

    from search.documents import iter_documents
    from search.embeddings import passage_digest, passages, to_bytes
    from search.models import StoryEmbedding

    chance = np.random.default_rng(seed)
    keep = float(np.sqrt(1 - PULL_TOWARD_QUESTION**2))
    started, stories, rows = time.perf_counter(), 0, 0
    batch: list[StoryEmbedding] = []

    def save():
        StoryEmbedding.objects.bulk_create(
            batch, update_conflicts=True, unique_fields=["story_id"], update_fields=["digest", "vectors"]
        )
        batch.clear()

    for document in iter_documents(failures={}):
        texts = passages(document)
        noise = chance.standard_normal((len(texts), VECTOR_DIMENSIONS)).astype(np.float32)
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        pulled = question_vectors[chance.integers(len(question_vectors), size=len(texts))]
        vectors = PULL_TOWARD_QUESTION * pulled + keep * noise
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        batch.append(
            StoryEmbedding(story_id=document["id"], digest=passage_digest(texts), vectors=to_bytes(vectors))
        )
        stories, rows = stories + 1, rows + len(texts)
        if len(batch) >= 500:
            save()
    if batch:
        save()
    return stories, rows, time.perf_counter() - started


def report_vector_store(stories: int, rows: int, question_vectors) -> None:
    """The first meaning query after the rebuild loads the vectors: its time, memory, and file size."""
    from django.contrib.auth.models import AnonymousUser

    from search.backends.base import SEMANTIC_MIN_SIMILARITY
    from search.backends.vectors import VECTORS_FILE
    from search.query import SearchQuery
    from search.service import get_backend, search_stories

    anonymous = AnonymousUser()
    backend = get_backend()
    search_stories(SearchQuery(text="customer", retrieval="lexical"), anonymous)  # opens the new build
    gc.collect()
    before, started = resident_bytes(), time.perf_counter()
    search_stories(SearchQuery(text="customer"), anonymous)
    seconds, grown = time.perf_counter() - started, resident_bytes() - before
    reader = backend._vector_reader  # the live build's store, as the service holds it
    if reader.story_count != stories:
        raise SystemExit(f"the rebuild attached vectors to {reader.story_count:,} of {stories:,} stories")
    files = sum(path.stat().st_size for path in backend.current_link.resolve().glob(f"{VECTORS_FILE}*"))
    print(
        f"  vector store: {stories:,} stories, {rows:,} rows of {VECTOR_DIMENSIONS}; in memory (nbytes)"
        f" {megabytes(reader.nbytes)}; process RSS grew {megabytes(grown)} on first load;"
        f" file {megabytes(files)}"
    )
    print(f"  first meaning query after the rebuild (loads the store): {seconds * 1000:,.0f} ms")
    above = [
        len(reader.nearest(vector, minimum=SEMANTIC_MIN_SIMILARITY, limit=stories))
        for vector in question_vectors[:20]
    ]
    print(
        f"  stories clearing the similarity floor ({SEMANTIC_MIN_SIMILARITY}) per question:"
        f" median {statistics.median(above):,.0f} (min {min(above):,}, max {max(above):,})"
    )
    report_vector_recall(reader, question_vectors)


def report_vector_recall(reader, question_vectors) -> None:
    """How much of an exact scan's answer the clusters' answer keeps, and each one's time."""
    from search.backends.base import SEMANTIC_CANDIDATES, SEMANTIC_MIN_SIMILARITY
    from search.backends.vectors import PROBED_CLUSTERS

    if not reader.approximate:
        print(
            "  meaning search scans every row (below the approximate index's threshold, or --exact-vectors)"
        )
        return
    limit = SEMANTIC_CANDIDATES * 4  # what the embedded backend asks the store for
    kept, exact_ms, approximate_ms = [], [], []
    for vector in question_vectors[:40]:
        started = time.perf_counter()
        exact = reader._nearest(reader._arrays(), vector, SEMANTIC_MIN_SIMILARITY, limit)
        exact_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        approximate = reader._nearest(reader._arrays(), vector, SEMANTIC_MIN_SIMILARITY, limit, reader._lists)
        approximate_ms.append((time.perf_counter() - started) * 1000)
        wanted = {story.story_id for story in exact[:SEMANTIC_CANDIDATES]}
        found = {story.story_id for story in approximate}
        kept.append(len(wanted & found) / len(wanted) if wanted else 1.0)
    print(
        f"  approximate meaning search ({len(reader._lists.clusters.centroids):,} clusters, {PROBED_CLUSTERS} probed):"
        f" recall of the exact top {SEMANTIC_CANDIDATES} {statistics.mean(kept):.3f} (min {min(kept):.2f});"
        f" store p50 {statistics.median(exact_ms):.1f} ms exact, {statistics.median(approximate_ms):.1f} ms"
        f" approximate"
    )


def query_runner(through: str, mode: str):
    """One query of the mix through the service or /api/search/, words only or hybrid."""
    from django.contrib.auth.models import AnonymousUser
    from django.test import Client

    from search.embeddings import embedder
    from search.query import SearchQuery
    from search.service import search_stories, suggest

    anonymous = AnonymousUser()
    client = Client()
    retrieval = "lexical" if mode == "lexical" else "hybrid"

    def run(kind, params):
        if mode == "hybrid":
            embedder.forget_questions()  # the model embeds the question inside the timed query
        if through == "api":
            response = client.get(
                "/api/search/suggest/" if kind == "autocomplete" else "/api/search/", params
            )
            if response.status_code != 200:
                raise SystemExit(f"/api/search/ answered {response.status_code} to {params}")
        elif kind == "autocomplete":
            suggest(params["q"], anonymous)
        else:
            search_stories(replace(SearchQuery.from_params(params), retrieval=retrieval), anonymous)
        return True

    return run


def time_mode(queries, through: str, mode: str):
    """Time the mix one way; the API has no retrieval parameter, so its words-only run sets EMBEDDING_MODEL=off."""
    from contextlib import nullcontext

    from search.embeddings import QUERY_CACHE_SIZE, embedder

    if mode == "hybrid-cached":
        questions = questions_of(queries)
        if len(questions) > QUERY_CACHE_SIZE:
            print(
                f"  ({len(questions)} questions outgrow the cache of {QUERY_CACHE_SIZE}: some are embedded)"
            )
        for text in questions:
            embedder.query_vector(text, wait=True)
    with words_only() if through == "api" and mode == "lexical" else nullcontext():
        return time_queries(queries, query_runner(through, mode))


def wagtail_runner(limit_seconds: float):
    """Wagtail's database search; the database is told to give up on a query after `limit_seconds`."""
    from django.db import connection

    from stories.models import StoryPage

    def answer(kind, params):
        # Not .public(): Wagtail's search cannot filter on its subquery, and no bench story is restricted.
        public = StoryPage.objects.live().filter(visibility="public")
        if kind == "text":
            results = public.search(params["q"])
            list(results[:10])
            results.count()
            return True
        if kind == "autocomplete":
            list(public.autocomplete(params["q"])[:6])
            return True
        return False  # no facet counts in Wagtail's search backend

    def on_postgres(deadline: float):
        """Each statement gets what is left of the query's time as PostgreSQL's statement_timeout."""

        def execute(run_statement, sql, params, many, context):
            left = int((deadline - time.perf_counter()) * 1000)
            if left <= 0:
                raise QueryTimedOut
            context["cursor"].cursor.execute(f"SET statement_timeout = {left}")
            return run_statement(sql, params, many, context)

        return connection.execute_wrapper(execute)

    def run(kind, params):
        connection.ensure_connection()
        deadline = time.perf_counter() + limit_seconds
        try:
            if connection.vendor == "postgresql":
                with on_postgres(deadline):
                    return answer(kind, params)
            connection.connection.set_progress_handler(lambda: int(time.perf_counter() > deadline), 10_000)
            return answer(kind, params)
        except Exception as error:
            if "interrupted" in str(error) or "statement timeout" in str(error):
                raise QueryTimedOut from error
            raise
        finally:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET statement_timeout = 0")
            else:
                connection.connection.set_progress_handler(None, 0)

    return run


def database_name() -> str:
    from django.db import connection

    if connection.vendor != "postgresql":
        return "SQLite"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"


def time_wagtail(generator: StoryGenerator, options) -> None:
    seconds = index_in_wagtail()
    database = database_name()
    print(f"  Wagtail database search ({database}): indexed in {seconds:.1f}s")
    if database != "SQLite":
        print("  (cpu counts this process only: the database server's work shows in wall time alone)")
    queries = query_set(generator, options.queries)[: options.wagtail_queries]
    report_row(
        f"Wagtail DB search, {database.split()[0]}",
        time_queries(queries, wagtail_runner(options.wagtail_limit)),
    )


def report_row(label: str, measured) -> None:
    timings, timeouts, cpu_timings = measured
    for kind in ("text", "text+facets", "facets", "autocomplete", "all"):
        values = timings.get(kind)
        if values:
            cpu = cpu_timings[kind]
            cut = f"   ({timeouts[kind]} cut off at the time limit)" if timeouts.get(kind) else ""
            print(
                f"  {label:<40} {kind:<13} n={len(values):<4} wall p50 {statistics.median(values):7.1f} ms"
                f"  p95 {percentile(values, 0.95):7.1f} ms   cpu p50 {statistics.median(cpu):7.1f} ms"
                f"  p95 {percentile(cpu, 0.95):7.1f} ms{cut}"
            )


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def run_embedded(options, generator: StoryGenerator) -> None:
    """Import, rebuild with and without vectors, and time every mode, size after size."""
    import numpy as np

    from search.embeddings import embedder, model_name
    from search.service import get_backend

    if options.hybrid:
        started = time.perf_counter()
        embedder.load()
        print(f"Embedding model {model_name()} loaded in {time.perf_counter() - started:.1f}s")
    have = 0
    for size in sorted(options.sizes):
        print(f"\n== {size:,} stories ==")
        seconds = import_stories(generator, have, size - have)
        print(f"  imported {size - have:,} stories (with transcripts for one in five) in {seconds:.1f}s")
        first, have = have == 0, size
        with words_only():
            count, seconds = timed_rebuild()
        print(
            f"  rebuild, words only (EMBEDDING_MODEL=off): {count:,} stories in {seconds:.1f}s = {count / seconds:,.0f} stories/s"
        )
        print(f"  index: {get_backend().count():,} documents")
        queries = query_set(generator, options.queries)
        if options.hybrid:
            if first and options.embed_sample:
                with unlogged_sql():
                    measure_embedding(options.embed_sample, options.sizes)
            question_vectors = np.stack(
                [embedder.query_vector(text, wait=True) for text in questions_of(queries)]
            )
            with unlogged_sql():
                stories, rows, seconds = store_bench_vectors(question_vectors, seed=size)
            print(
                f"  stand-in vectors (random unit vectors pulled toward the questions, not the model's):"
                f" {stories:,} stories, {rows:,} rows saved in {seconds:.1f}s"
            )
            count, seconds = timed_rebuild()
            print(
                f"  rebuild, with vectors: {count:,} stories in {seconds:.1f}s = {count / seconds:,.0f} stories/s"
            )
            report_vector_store(stories, rows, question_vectors)
        time_every_mode(options)
        if not options.skip_wagtail:
            time_wagtail(generator, options)


def time_every_mode(options) -> None:
    """The timed part alone: every retrieval mode, through the service and/or the API."""
    modes = ["lexical"] + (["hybrid", "hybrid-cached"] if options.hybrid else [])
    queries = query_set(StoryGenerator(), options.queries)
    if options.hybrid:
        question_threads()
    print(f"  load average: {load_average()}")
    for through in options.through:
        for mode in modes:
            label = f"{'/api/search/' if through == 'api' else 'service'}, {MODES[mode]}"
            report_row(label, time_mode(queries, through, mode))
    print(f"  load average: {load_average()}")


def run_reused(options) -> None:
    """Time the queries again on a folder an earlier run kept (--keep), without importing anything.

    The stand-in vectors were pulled toward that run's questions, so give the same --queries.
    """
    from search.embeddings import embedder, model_name
    from search.service import get_backend

    if options.hybrid:
        started = time.perf_counter()
        embedder.load()
        print(f"Embedding model {model_name()} loaded in {time.perf_counter() - started:.1f}s")
    print(f"\n== {get_backend().count():,} stories, reused ==")
    if options.hybrid:
        import numpy as np
        from django.contrib.auth.models import AnonymousUser

        from search.query import SearchQuery
        from search.service import search_stories

        search_stories(SearchQuery(text="customer", retrieval="lexical"), AnonymousUser())  # opens the build
        started = time.perf_counter()
        reader = get_backend()._vector_reader
        print(
            f"  vector store: {reader.story_count:,} stories; loaded in {time.perf_counter() - started:.1f}s"
        )
        started = time.perf_counter()
        approximate = reader.approximate  # clusters the rows, past the threshold
        print(
            f"  first meaning search loads the store{', clustered,' if approximate else ''}"
            f" in {time.perf_counter() - started:.1f}s"
        )
        queries = query_set(StoryGenerator(), options.queries)
        vectors = np.stack([embedder.query_vector(text, wait=True) for text in questions_of(queries)])
        report_vector_recall(reader, vectors)
    time_every_mode(options)


def exact_vectors_if_asked(options) -> None:
    if options.exact_vectors:
        from search.backends import vectors

        vectors.APPROXIMATE_FROM_ROWS = sys.maxsize
        print("Meaning search scans every vector (--exact-vectors)")


def question_threads() -> None:
    """Embed questions as a web process does (search.embeddings.warm_up): one torch thread each."""
    import torch

    from search.embeddings import QUESTION_THREADS

    torch.set_num_threads(QUESTION_THREADS)


def run_wagtail_only(options, generator: StoryGenerator) -> None:
    """Import the same stories into the database given, and time Wagtail's database search there."""
    from django.db import connection

    have = 0
    for size in sorted(options.sizes):
        print(f"\n== {size:,} stories, {database_name()} ==")
        seconds = import_stories(generator, have, size - have)
        print(f"  imported {size - have:,} stories (with transcripts for one in five) in {seconds:.1f}s")
        have = size
        print(f"  load average: {load_average()}")
        time_wagtail(generator, options)
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=400, help="queries per run (a quarter of each kind)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    parser.add_argument("--skip-wagtail", action="store_true", help="time only the embedded index")
    parser.add_argument(
        "--wagtail-limit", type=float, default=5.0, help="seconds before a Wagtail query is cut off"
    )
    parser.add_argument(
        "--wagtail-queries",
        type=int,
        default=100,
        help="how many of the mixed queries Wagtail answers (it is slow)",
    )
    parser.add_argument(
        "--hybrid",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time meaning search: vectors, rebuild with them, hybrid queries (default: on)",
    )
    parser.add_argument(
        "--embed-sample",
        type=int,
        default=300,
        help="stories the real model embeds to measure its rate (0: none)",
    )
    parser.add_argument(
        "--through",
        nargs="+",
        choices=["service", "api"],
        default=["service", "api"],
        help="time queries through search_stories, /api/search/, or both",
    )
    parser.add_argument(
        "--postgres-url",
        help="an empty PostgreSQL database (postgres:///storybank_bench): time Wagtail's search there too",
    )
    parser.add_argument(
        "--postgres-sizes", type=int, nargs="+", help="sizes for the PostgreSQL run (default: --sizes)"
    )
    parser.add_argument(
        "--exact-vectors",
        action="store_true",
        help="scan every vector, however many (to compare with the approximate index)",
    )
    parser.add_argument("--wagtail-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument(
        "--reuse",
        type=Path,
        help="a folder an earlier run kept (--keep): only time the queries again (same --queries)",
    )
    options = parser.parse_args()

    if options.reuse:
        configure(options.reuse)
        exact_vectors_if_asked(options)
        print_machine()
        print(f"Reused folder: {options.reuse}")
        run_reused(options)
        return
    workdir = Path(tempfile.mkdtemp(prefix="storybank-bench-"))
    configure(workdir, options.database_url)
    from django.core.management import call_command
    from django.db import connection

    print_machine()
    print(f"Working folder: {workdir}")
    exact_vectors_if_asked(options)
    if connection.introspection.table_names():
        raise SystemExit(f"{options.database_url} is not empty: give the benchmark a fresh database")
    call_command("migrate", interactive=False, verbosity=0)
    try:
        if options.wagtail_only:
            run_wagtail_only(options, StoryGenerator())
        else:
            run_embedded(options, StoryGenerator())
    finally:
        if not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    if options.postgres_url and not options.wagtail_only and not options.skip_wagtail:
        print(
            f"\n== Wagtail's database search on PostgreSQL ({options.postgres_url}), a second process ==",
            flush=True,
        )
        sizes = options.postgres_sizes or options.sizes
        command = [sys.executable, __file__, "--wagtail-only", "--database-url", options.postgres_url]
        command += ["--sizes", *map(str, sizes), "--queries", str(options.queries)]
        command += [
            "--wagtail-queries",
            str(options.wagtail_queries),
            "--wagtail-limit",
            str(options.wagtail_limit),
        ]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
