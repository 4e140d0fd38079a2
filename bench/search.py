"""Search benchmark: the embedded index next to Wagtail's database search, on the same stories.

    .venv/bin/python bench/search.py                   # 10,000 then 100,000 stories
    .venv/bin/python bench/search.py --sizes 10000     # just 10,000

It works in a throwaway folder (its own SQLite database and index directory), imports generated
stories through the real bulk importer, adds transcripts to one story in five, rebuilds the index
with `search.sync.rebuild_index` (timed: stories per second), indexes the same stories in Wagtail's
database search backend, then times a mixed query set: text, text + facet filters, facet filters
only, and autocomplete. Each embedded query runs through the service (`search_stories`: query,
facet counts with other-filters semantics, highlights, and the database re-check of the hits).
Wagtail's backend only answers the text and autocomplete queries (it has no facet counts); for a
fair text comparison its StoryPage search fields are widened here to title, context, aha and outcome.
Wagtail queries still running after --wagtail-limit seconds are cut off and counted at the limit.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
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


def embedded_runner():
    from django.contrib.auth.models import AnonymousUser

    from search.query import SearchQuery
    from search.service import search_stories, suggest

    anonymous = AnonymousUser()

    def run(kind, params):
        if kind == "autocomplete":
            suggest(params["q"], anonymous)
        else:
            search_stories(SearchQuery.from_params(params), anonymous)
        return True

    return run


def wagtail_runner(limit_seconds: float):
    """Wagtail's database search; SQLite is told to give up on a query after `limit_seconds`."""
    from django.db import connection

    from stories.models import StoryPage

    def answer(kind, params):
        public = StoryPage.objects.live().public().filter(visibility="public")
        if kind == "text":
            results = public.search(params["q"])
            list(results[:10])
            results.count()
            return True
        if kind == "autocomplete":
            list(public.autocomplete(params["q"])[:6])
            return True
        return False  # no facet counts in Wagtail's search backend

    def run(kind, params):
        connection.ensure_connection()
        deadline = time.perf_counter() + limit_seconds
        connection.connection.set_progress_handler(lambda: int(time.perf_counter() > deadline), 10_000)
        try:
            return answer(kind, params)
        except Exception as error:
            if "interrupted" in str(error):
                raise QueryTimedOut from error
            raise
        finally:
            connection.connection.set_progress_handler(None, 0)

    return run


def report_row(label: str, measured) -> None:
    timings, timeouts, cpu_timings = measured
    for kind in ("text", "text+facets", "facets", "autocomplete", "all"):
        values = timings.get(kind)
        if values:
            cpu = cpu_timings[kind]
            cut = f"   ({timeouts[kind]} cut off at the time limit)" if timeouts.get(kind) else ""
            print(
                f"  {label:<30} {kind:<13} n={len(values):<4} wall p50 {statistics.median(values):7.1f} ms"
                f"  p95 {percentile(values, 0.95):7.1f} ms   cpu p50 {statistics.median(cpu):7.1f} ms"
                f"  p95 {percentile(cpu, 0.95):7.1f} ms{cut}"
            )


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
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="storybank-bench-"))
    configure(workdir)
    from django.core.management import call_command

    from search.service import get_backend
    from search.sync import rebuild_index

    print_machine()
    print(f"Working folder: {workdir}")
    call_command("migrate", interactive=False, verbosity=0)
    generator = StoryGenerator()
    have = 0
    try:
        for size in sorted(options.sizes):
            print(f"\n== {size:,} stories ==")
            seconds = import_stories(generator, have, size - have)
            print(f"  imported {size - have:,} stories (with transcripts for one in five) in {seconds:.1f}s")
            have = size
            started = time.perf_counter()
            count = rebuild_index()
            seconds = time.perf_counter() - started
            print(f"  rebuild: {count:,} stories in {seconds:.1f}s = {count / seconds:,.0f} stories/s")
            print(f"  index: {get_backend().count():,} documents")
            print(f"  load average: {' '.join(f'{value:.1f}' for value in os.getloadavg())}")
            queries = query_set(generator, options.queries)
            report_row("embedded (tantivy, service)", time_queries(queries, embedded_runner()))
            if not options.skip_wagtail:
                seconds = index_in_wagtail()
                print(f"  Wagtail database search: indexed in {seconds:.1f}s")
                wagtail_queries = queries[: options.wagtail_queries]
                report_row(
                    "Wagtail database search",
                    time_queries(wagtail_queries, wagtail_runner(options.wagtail_limit)),
                )
    finally:
        if not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
