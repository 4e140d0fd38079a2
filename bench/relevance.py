"""Relevance benchmark: does search find the right demo stories, for each retrieval mode?

    .venv/bin/python bench/relevance.py                          # every mode, every query
    .venv/bin/python bench/relevance.py --mode lexical --kind question --verbose
    .venv/bin/python bench/relevance.py --check-words            # also audit the semantic queries

The speed benchmarks say how fast search answers; this one says whether the answer is any good.
It loads the demo library into a throwaway Storybank, builds the index with
`manage.py search_index rebuild` (so it gets whatever a rebuild builds) and lets the worker's
housekeeping jobs catch up (what a running worker would do next), then runs the graded
queries of bench/relevance_queries.jsonl through `search_stories`, ten results each, once per
retrieval mode, as a superuser (staff-only stories count too). The queries come in three kinds:
"keyword" (words from the story, a few of them misspelt), "question" (a colleague's question in
their own words) and "semantic" (the need in words the story does not use, which word matching
cannot find).

Grades: 2 = the story answers the query, 1 = partly relevant, unlisted = 0. Over the top 10:
- MRR@10: 1/rank of the first result with the query's top grade (2, or 1 where no story answers
  it fully), 0 when there is none;
- nDCG@10: gains 2^grade - 1, discount log2(rank + 1), divided by the ideal ordering's;
- recall@10: the share of the stories graded 1 or 2 that appear;
- empty: how many queries returned no story at all.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

from benchenv import configure, print_machine

QUERIES_FILE = Path(__file__).resolve().parent / "relevance_queries.jsonl"
KINDS = ("keyword", "question", "semantic")
TOP = 10
WARM_UP_TEXT = "a first search, untimed, so that no mode pays for opening the index"
# Words too common to count when checking that a semantic query avoids its stories' words.
FUNCTION_WORDS = {"from", "off", "our", "us", "we", "my", "i", "you", "they", "their", "it", "s"}


@dataclass(frozen=True)
class GradedQuery:
    text: str
    kind: str
    grades: dict[str, int]  # external_id -> 1 or 2

    @property
    def top_grade(self) -> int:
        return max(self.grades.values())


@dataclass
class QueryRun:
    query: GradedQuery
    ranked: list[str]  # external ids of the results, best first
    seconds: float  # wall clock
    cpu_seconds: float  # this process, all threads: what the query costs whatever else the machine does

    @property
    def reciprocal_rank(self) -> float:
        for rank, story in enumerate(self.ranked[:TOP], 1):
            if self.query.grades.get(story, 0) >= self.query.top_grade:
                return 1 / rank
        return 0.0

    @property
    def ndcg(self) -> float:
        def dcg(grades: list[int]) -> float:
            return sum((2**grade - 1) / math.log2(rank + 1) for rank, grade in enumerate(grades[:TOP], 1))

        ideal = dcg(sorted(self.query.grades.values(), reverse=True))
        return dcg([self.query.grades.get(story, 0) for story in self.ranked]) / ideal

    @property
    def found(self) -> int:
        return len(set(self.ranked[:TOP]) & set(self.query.grades))

    @property
    def recall(self) -> float:
        return self.found / len(self.query.grades)


def load_queries(path: Path) -> list[GradedQuery]:
    queries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        grades = {story: int(grade) for story, grade in row["grades"].items() if int(grade) > 0}
        if row["kind"] not in KINDS or not grades or any(grade > 2 for grade in grades.values()):
            raise SystemExit(f"{path.name} line {number}: needs a kind in {KINDS} and grades of 1 or 2")
        queries.append(GradedQuery(row["query"], row["kind"], grades))
    return queries


def build_library() -> dict[int, str]:
    """Migrate, load the demo library, rebuild the index; returns story id -> external_id."""
    from django.core.management import call_command

    from search.documents import indexable_stories
    from stories.demo import load_demo

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"Migrated in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    created = load_demo()
    print(f"Demo library: {created['stories']} stories loaded in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    output = StringIO()
    call_command("search_index", "rebuild", stdout=output)
    last_line = output.getvalue().strip().splitlines()[-1]
    print(f"`search_index rebuild` in {time.perf_counter() - started:.1f}s: {last_line}")
    started = time.perf_counter()
    rounds, done = catch_up_like_the_worker()
    print(
        f"Worker housekeeping caught up in {time.perf_counter() - started:.1f}s: {rounds} rounds, {done} items"
    )
    return dict(indexable_stories().values_list("pk", "external_id"))


def catch_up_like_the_worker(most_rounds: int = 1000) -> tuple[int, int]:
    """Run the worker's housekeeping jobs until a round finds nothing to do; returns rounds and items.

    What a rebuild leaves to the worker (queued index updates, and whatever else a site's
    housekeeping computes in the background) is then done, as on an installation whose worker runs.
    """
    from django.conf import settings
    from django.utils.module_loading import import_string

    jobs = [import_string(path) for path in settings.STORYBANK_HOUSEKEEPING]
    total = 0
    for round_number in range(1, most_rounds + 1):
        done = sum(result for result in (job() for job in jobs) if isinstance(result, int))
        total += done
        if not done:
            return round_number, total
    raise SystemExit(f"The worker's housekeeping still had work after {most_rounds} rounds")


def check_grades(queries: list[GradedQuery], indexed: set[str]) -> None:
    """A grade on a story that is not published (so never found) would make every mode look worse."""
    unknown = sorted({story for query in queries for story in query.grades} - indexed)
    if unknown:
        raise SystemExit(f"Graded stories that are not published demo stories: {', '.join(unknown)}")


def check_words(queries: list[GradedQuery]) -> None:
    """Semantic queries should share no content word (after the index's stemming) with their stories."""
    from search.backends.embedded import ANALYZER
    from stories.demo import fixture

    def words(text: str) -> set[str]:
        return set(ANALYZER.analyze(text)) - FUNCTION_WORDS

    story_words = {
        row["external_id"]: words(
            " ".join(
                [row["title"], row["context"], row["aha"], row["outcome"], row["teller"]]
                + row["people"]
                + row["themes"]
                + row["outcomes"]
            )
        )
        for row in fixture("stories")
    }
    print("\nSemantic queries: content words they share with a graded story")
    clean = True
    for query in queries:
        if query.kind != "semantic":
            continue
        for story in query.grades:
            shared = words(query.text) & story_words[story]
            if shared:
                clean = False
                print(f"  {query.text!r} / {story}: {', '.join(sorted(shared))}")
    if clean:
        print("  none")


def run_mode(mode: str, queries: list[GradedQuery], user, external_ids: dict[int, str]):
    """Every query once through the service, after one untimed warm-up search."""
    from search.query import SearchQuery
    from search.service import search_stories

    def ask(query: GradedQuery) -> QueryRun:
        started, cpu_started = time.perf_counter(), time.process_time()
        page = search_stories(SearchQuery(text=query.text, per_page=TOP, retrieval=mode), user)
        ranked = [external_ids[result.story.id] for result in page.results]
        return QueryRun(query, ranked, time.perf_counter() - started, time.process_time() - cpu_started)

    forget_cached_query_vectors()
    warm_up = ask(GradedQuery(WARM_UP_TEXT, "question", {})).seconds
    return [ask(query) for query in queries], warm_up


def forget_cached_query_vectors() -> None:
    """Time every mode as for questions never asked before: drop this process's cached query vectors.

    Without this, the modes after the first would reuse the vectors the first one computed.
    """
    from search.embeddings import embedder

    embedder.forget_questions()


def summary_row(kind: str, mode: str, runs: list[QueryRun]) -> str:
    return (
        f"| {kind} | {mode} | {len(runs)} "
        f"| {statistics.mean(run.reciprocal_rank for run in runs):.3f} "
        f"| {statistics.mean(run.ndcg for run in runs):.3f} "
        f"| {statistics.mean(run.recall for run in runs):.3f} "
        f"| {sum(1 for run in runs if not run.ranked)} "
        f"| {statistics.mean(run.seconds for run in runs) * 1000:.1f} |"
    )


def print_detail(queries: list[GradedQuery], results: dict[str, list[QueryRun]]) -> None:
    print("\nPer query (results best first, grade in brackets; missed: graded stories not in the top 10)")
    for number, query in enumerate(queries):
        grades = ", ".join(f"{story}:{grade}" for story, grade in query.grades.items())
        print(f"\n[{query.kind}] {query.text!r}  grades {grades}")
        for mode, runs in results.items():
            run = runs[number]
            shown = " ".join(
                f"{story}({query.grades[story]})" if story in query.grades else story for story in run.ranked
            )
            missed = [story for story in query.grades if story not in run.ranked[:TOP]]
            print(
                f"  {mode:<8} RR {run.reciprocal_rank:.2f}  nDCG {run.ndcg:.2f}  "
                f"recall {run.found}/{len(query.grades)}  {run.seconds * 1000:5.1f} ms  "
                f"{shown or '(nothing)'}" + (f"  missed: {' '.join(missed)}" if missed else "")
            )


def main() -> None:
    from_start = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", help="run one retrieval mode (hybrid, lexical, semantic)")
    parser.add_argument("--kind", choices=KINDS, help="run one kind of query")
    parser.add_argument("--verbose", action="store_true", help="show every query's results")
    parser.add_argument("--queries", type=Path, default=QUERIES_FILE, help="graded queries (JSON Lines)")
    parser.add_argument("--check-words", action="store_true", help="list semantic queries' shared words")
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    options = parser.parse_args()

    queries = load_queries(options.queries)
    if options.kind:
        queries = [query for query in queries if query.kind == options.kind]

    workdir = Path(tempfile.mkdtemp(prefix="storybank-relevance-bench-"))
    try:
        configure(workdir)
        from django.contrib.auth import get_user_model

        from search.query import RETRIEVALS

        if options.mode and options.mode not in RETRIEVALS:
            parser.error(f"--mode must be one of {', '.join(RETRIEVALS)}")
        modes = [options.mode] if options.mode else list(RETRIEVALS)
        print_machine()
        print(f"Working folder: {workdir}")
        external_ids = build_library()
        check_grades(queries, set(external_ids.values()))
        if options.check_words:
            check_words(queries)
        reader = get_user_model().objects.create_superuser("relevance-bench", "bench@example.org", None)
        setup_seconds = time.perf_counter() - from_start

        results, warm_ups = {}, {}
        for mode in modes:
            results[mode], warm_ups[mode] = run_mode(mode, queries, reader, external_ids)

        kinds = [kind for kind in KINDS if any(query.kind == kind for query in queries)]
        print(
            f"\nRelevance on the demo library ({len(external_ids)} published stories, {len(queries)} "
            f"graded queries, top {TOP}, as a superuser). MRR@{TOP}: first result with the query's "
            f"top grade; nDCG@{TOP}: gains 2^grade-1; recall@{TOP}: share of graded stories found; "
            "empty: queries with no result.\n"
        )
        print(f"| kind | mode | queries | MRR@{TOP} | nDCG@{TOP} | recall@{TOP} | empty | ms/query |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for kind in [*kinds, "all"]:
            for mode in modes:
                runs = [run for run in results[mode] if kind in ("all", run.query.kind)]
                print(summary_row(kind, mode, runs))

        print("\nTime per query (wall clock, through search_stories):")
        for mode in modes:
            seconds = [run.seconds for run in results[mode]]
            cpu = statistics.mean(run.cpu_seconds for run in results[mode])
            print(
                f"  {mode:<8} mean {statistics.mean(seconds) * 1000:6.1f} ms (cpu {cpu * 1000:6.1f} ms), "
                f"max {max(seconds) * 1000:6.1f} ms over {len(seconds)} queries "
                f"(untimed warm-up query: {warm_ups[mode] * 1000:.1f} ms)"
            )
        if len(modes) > 1 and all(
            len({tuple(results[mode][number].ranked) for mode in modes}) == 1
            for number in range(len(queries))
        ):
            print("  Note: every mode returned the same results for every query.")
        if options.verbose:
            print_detail(queries, results)
        total = time.perf_counter() - from_start
        print(f"\nWhole run: {total:.1f}s (setup {setup_seconds:.1f}s, queries {total - setup_seconds:.1f}s)")
    finally:
        if not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
