"""Routing benchmark: are questions sent to the people who can answer them?

    .venv/bin/python bench/routing.py               # both methods, every question
    .venv/bin/python bench/routing.py --verbose     # and each question's people

When a colleague posts a question, Storybank sends it to the few people whose stories answer
questions like it (`questions.asking.route_question`, ranking people with
`search.people.people_who_know`). This benchmark says whether those are the right people. Like
bench/relevance.py (whose set-up it reuses), it loads the demo library into a throwaway Storybank,
rebuilds the index and lets the worker's housekeeping catch up; then, as a signed-in colleague who
is in no story, it routes each question of bench/routing_questions.jsonl, and ranks people by a
baseline for comparison:

- storybank: `route_question` with room for ten people (the first QUESTIONS_ROUTE_TO are the
  ones a posted question is sent to);
- most stories in the theme: the question's best theme, chosen as Storybank chooses a question's
  themes (`questions.asking.question_themes`: the approved themes of the top results; the best
  is the one most of those results share, ties to the higher-ranked result), and the people with
  the most published stories in it (told or helped in, ties to more told, then by name).

Each line of the set holds a question, its graded people (by name) and the demo stories the grades
were read from. Grades, by hand: 2 = the one who solved it, 1 = also knows, unlisted = 0.
- precision@3: the share of the first three people who are graded 1 or 2;
- recall@3: the share of the graded people among the first three;
- solver@3: the share of questions whose grade-2 person is among the first three;
- MRR@10: 1/rank of the first grade-2 person in the first ten, 0 when absent;
- empty: questions for which the method named nobody.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchenv import configure, print_machine
from relevance import build_library, forget_cached_query_vectors

QUESTIONS_FILE = Path(__file__).resolve().parent / "routing_questions.jsonl"
ASKED = 3
TOP = 10
STORYBANK = "storybank"
BASELINE = "most stories in the theme"
WARM_UP_TEXT = "a first question, untimed, so that no method pays for opening the index"


@dataclass(frozen=True)
class GradedQuestion:
    text: str
    grades: dict[str, int]  # person's name -> 1 or 2
    stories: tuple[str, ...]  # the demo stories the grades were read from

    @property
    def solvers(self) -> set[str]:
        return {name for name, grade in self.grades.items() if grade == 2}


@dataclass
class Ranking:
    question: GradedQuestion
    people: list[str]  # names, best first
    seconds: float
    note: str = ""  # what the method based its ranking on, for --verbose

    @property
    def hits_in_asked(self) -> int:
        return len(set(self.people[:ASKED]) & set(self.question.grades))

    @property
    def precision(self) -> float:
        return self.hits_in_asked / ASKED

    @property
    def recall(self) -> float:
        return self.hits_in_asked / len(self.question.grades)

    @property
    def solver_asked(self) -> bool:
        return bool(set(self.people[:ASKED]) & self.question.solvers)

    @property
    def reciprocal_rank(self) -> float:
        for rank, name in enumerate(self.people[:TOP], 1):
            if name in self.question.solvers:
                return 1 / rank
        return 0.0


def load_questions(path: Path) -> list[GradedQuestion]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        grades = {name: int(grade) for name, grade in row["people"].items() if int(grade) > 0}
        if not grades or any(grade > 2 for grade in grades.values()) or 2 not in grades.values():
            raise SystemExit(f"{path.name} line {number}: needs grades of 1 or 2, with one person graded 2")
        questions.append(GradedQuestion(row["question"], grades, tuple(row.get("stories", ()))))
    return questions


def check_grades(questions: list[GradedQuestion]) -> None:
    """A misspelt name would never be found, and would make every method look worse."""
    from stories.models import Person

    known = set(Person.objects.values_list("name", flat=True))
    unknown = sorted({name for question in questions for name in question.grades} - known)
    if unknown:
        raise SystemExit(f"Graded people who are not in the demo directory: {', '.join(unknown)}")


def storybank_routing(question: GradedQuestion, asker) -> Ranking:
    """The people `route_question` sends a newly posted question to, given room for TOP."""
    from questions.asking import route_question
    from questions.models import Question

    posted = Question.objects.create(text=question.text, asker=asker)
    started = time.perf_counter()
    routed = route_question(posted, asker, limit=TOP)
    people = [person.routing.person.name for person in routed]
    return Ranking(question, people, time.perf_counter() - started)


def best_theme(text: str, asker):
    """The question's themes as Storybank chooses them, and of those the one most top results share."""
    from questions.asking import STORIES_FOR_THEMES, question_themes
    from search.query import SearchQuery
    from search.service import search_stories

    themes = {theme.slug: theme for theme in question_themes(text, asker)}
    # The same search question_themes runs, read again for the order of its results.
    page = search_stories(SearchQuery(text=text, per_page=STORIES_FOR_THEMES, ranking_only=True), asker)
    shared, first_rank = Counter(), {}
    for rank, result in enumerate(page.results):
        for theme in result.story.themes:
            if theme.slug in themes:
                shared[theme.slug] += 1
                first_rank.setdefault(theme.slug, rank)
    if not shared:
        return None
    return themes[min(shared, key=lambda slug: (-shared[slug], first_rank[slug]))]


def most_stories_in_theme(question: GradedQuestion, asker) -> Ranking:
    """The people with the most published stories the asker may read in the question's best theme."""
    from stories.models import StoryPage

    started = time.perf_counter()
    theme = best_theme(question.text, asker)
    if theme is None:
        return Ranking(question, [], time.perf_counter() - started, "no theme")
    stories = (
        StoryPage.objects.visible_to(asker)
        .filter(themes=theme)
        .select_related("teller")
        .prefetch_related("people")
    )
    told, in_stories = Counter(), Counter()
    for story in stories:
        names = {person.name for person in story.people.all()}
        if story.teller:
            told[story.teller.name] += 1
            names.add(story.teller.name)
        in_stories.update(names)
    people = sorted(in_stories, key=lambda name: (-in_stories[name], -told[name], name.casefold()))[:TOP]
    return Ranking(question, people, time.perf_counter() - started, f"theme {theme.name}")


def run_method(method: Callable[[GradedQuestion, object], Ranking], questions: list[GradedQuestion], asker):
    """Every question once, after one untimed warm-up, each embedded afresh (as a new question is)."""
    forget_cached_query_vectors()
    method(GradedQuestion(WARM_UP_TEXT, {"nobody": 2}, ()), asker)
    return [method(question, asker) for question in questions]


def summary_row(name: str, rankings: list[Ranking]) -> str:
    return (
        f"| {name} | {len(rankings)} "
        f"| {statistics.mean(ranking.precision for ranking in rankings):.3f} "
        f"| {statistics.mean(ranking.recall for ranking in rankings):.3f} "
        f"| {statistics.mean(ranking.solver_asked for ranking in rankings):.3f} "
        f"| {statistics.mean(ranking.reciprocal_rank for ranking in rankings):.3f} "
        f"| {sum(1 for ranking in rankings if not ranking.people)} "
        f"| {statistics.mean(ranking.seconds for ranking in rankings) * 1000:.1f} |"
    )


def print_detail(questions: list[GradedQuestion], results: dict[str, list[Ranking]]) -> None:
    print("\nPer question (people best first, grade in brackets; the first three are the ones asked)")
    for number, question in enumerate(questions):
        grades = ", ".join(f"{name}:{grade}" for name, grade in question.grades.items())
        print(f"\n{question.text!r}  ({' '.join(question.stories)})  grades {grades}")
        for name, rankings in results.items():
            ranking = rankings[number]
            shown = ", ".join(
                f"{person}({question.grades[person]})" if person in question.grades else person
                for person in ranking.people[:5]
            )
            note = f"  [{ranking.note}]" if ranking.note else ""
            print(
                f"  {name:<26} P@3 {ranking.precision:.2f}  RR {ranking.reciprocal_rank:.2f}  "
                f"{shown or '(nobody)'}{note}"
            )


def main() -> None:
    from_start = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="show every question's people")
    parser.add_argument(
        "--questions", type=Path, default=QUESTIONS_FILE, help="graded questions (JSON Lines)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    options = parser.parse_args()
    questions = load_questions(options.questions)

    workdir = Path(tempfile.mkdtemp(prefix="storybank-routing-bench-"))
    try:
        configure(workdir)
        from django.conf import settings
        from django.contrib.auth import get_user_model

        print_machine()
        print(f"Working folder: {workdir}")
        external_ids = build_library()
        check_grades(questions)
        asker = get_user_model().objects.create_user("routing-bench", "routing-bench@example.org", None)
        setup_seconds = time.perf_counter() - from_start

        results = {
            STORYBANK: run_method(storybank_routing, questions, asker),
            BASELINE: run_method(most_stories_in_theme, questions, asker),
        }
        print(
            f"\nRouting on the demo library ({len(external_ids)} published stories, {len(questions)} "
            f"graded questions, asked by a signed-in colleague in no story; a posted question is "
            f"sent to QUESTIONS_ROUTE_TO = {settings.QUESTIONS_ROUTE_TO}). precision@{ASKED} / "
            f"recall@{ASKED}: graded people among the first {ASKED}; solver@{ASKED}: questions whose "
            f"grade-2 person is among them; MRR@{TOP}: 1/rank of the grade-2 person; empty: nobody named.\n"
        )
        print(
            f"| method | questions | precision@{ASKED} | recall@{ASKED} | solver@{ASKED} "
            f"| MRR@{TOP} | empty | ms/question |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, rankings in results.items():
            print(summary_row(name, rankings))
        if options.verbose:
            print_detail(questions, results)
        total = time.perf_counter() - from_start
        print(
            f"\nWhole run: {total:.1f}s (setup {setup_seconds:.1f}s, questions {total - setup_seconds:.1f}s)"
        )
    finally:
        if not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
