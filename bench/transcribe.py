"""Benchmark: spoken clips of 30 s, 2 min and 10 min through the worker path vs. bare faster-whisper.

Run with `make bench-transcribe` (or `.venv/bin/python bench/transcribe.py [--sizes 30,120,600]`).
Uses its own database and media folder under bench/out/, never the development data.

1. The worker path for real: every clip is submitted (store, hash, probe, queue) and one
   `manage.py run_worker --batch` subprocess drafts them all; its peak memory is its ru_maxrss.
2. Worker path against bare faster-whisper, interleaved clip by clip and repeated (best of
   --repeat), in this process: the bare baseline (same model object, device, compute type,
   threads, beam, VAD) on the file, and the worker's job (`process_submission`: claim → decode →
   transcribe → draft story → review) after the upload handling. For each: audio seconds per wall
   second, and per CPU second (all threads) — the CPU figure does not move when other work shares
   the machine. Clip-to-draft = upload handling + job, and its ratio to the bare baseline.
Targets on a 2-core machine: ≥ 15× real time, clip-to-draft ≤ 1.3× bare, worker peak < 1 GiB.

`--quality` measures what the transcripts are worth instead (WER, line lengths, timing, invented
repeats, speakers) on a generated corpus: see bench/transcript_quality.py, whose options follow.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "transcribe"
PARAGRAPH = (
    "When I joined the support team, customer questions sat in one shared inbox for days. "
    "Nobody owned them, and the same answers were written again and again. "
    "One afternoon I realised we could post each question on the internal network instead. "
    "Within an hour an engineer from another office answered, and three colleagues added tips. "
    "Since then we keep every answer in one place, and customers hear back the same day. "
    "We saved about two days a week, and new starters learn faster because the answers are there. "
)


def environment() -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": "",
        "STORYBANK_VAR_DIR": str(OUT / "var"),
        "MEDIA_ROOT": str(OUT / "media"),
        "DJANGO_SETTINGS_MODULE": "storybank.settings",
        "LOG_LEVEL": "WARNING",
    }
    return env


def make_clip(seconds: int) -> Path:
    """`seconds` of espeak-ng speech as Ogg/Opus, the kind of file a browser recorder sends."""
    clip = OUT / f"speech-{seconds}s.ogg"
    if clip.exists():
        return clip
    wav = OUT / f"speech-{seconds}s-long.wav"
    words_needed = int(seconds * 3.2) + 40
    text = PARAGRAPH * (words_needed // len(PARAGRAPH.split()) + 1)
    subprocess.run(["espeak-ng", "-s", "160", "-w", str(wav), text], check=True)
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(wav),
            "-t",
            str(seconds),
            "-c:a",
            "libopus",
            str(clip),
        ],
        check=True,
    )
    wav.unlink()
    return clip


def bare_baseline(clip: Path) -> tuple[float, float]:
    """Wall and CPU seconds for faster-whisper alone, with the worker's model and settings."""
    from capture.transcribe import beam_size, load_model

    model = load_model()
    wall, cpu = time.perf_counter(), time.process_time()
    segments, _info = model.transcribe(
        str(clip), language="en", beam_size=beam_size(), vad_filter=True, condition_on_previous_text=False
    )
    words = sum(len(segment.text.split()) for segment in segments)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert words > 10, "the bare baseline heard nothing"
    return wall, cpu


def submit(user, clip: Path) -> tuple[int, float]:
    """Upload handling as the view does it; returns the submission id and its wall seconds."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from capture.clip_intake import create_submission

    started = time.perf_counter()
    upload = SimpleUploadedFile(clip.name, clip.read_bytes(), content_type="audio/ogg")
    submission_id = create_submission(user, mode="free", uploads={"free": upload}).pk
    return submission_id, time.perf_counter() - started


def worker_job(user, clip: Path) -> tuple[float, float, float]:
    """Upload handling, then the worker's job in this process: (intake wall, job wall, job CPU)."""
    from capture.models import SubmissionState
    from capture.tasks import process_submission

    submission_id, intake = submit(user, clip)
    wall, cpu = time.perf_counter(), time.process_time()
    state = process_submission(submission_id)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert state == SubmissionState.DRAFTED, state
    return intake, wall, cpu


def main() -> None:
    if "--quality" in sys.argv:
        sys.argv.remove("--quality")
        sys.path.append(str(ROOT / "bench"))  # appended: bench/search.py must not hide the search app
        import transcript_quality

        transcript_quality.main()
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30,120,600", help="Clip lengths in seconds, comma-separated.")
    parser.add_argument("--repeat", type=int, default=2, help="Runs of each measurement; the best is kept.")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    shutil.rmtree(OUT / "var", ignore_errors=True)
    shutil.rmtree(OUT / "media", ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    env = environment()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    from capture.models import ClipSubmission
    from capture.transcribe import beam_size, resolve_model_path

    settings.MAX_CLIP_SECONDS = max(settings.MAX_CLIP_SECONDS, max(sizes) + 5)
    user = get_user_model().objects.create_user("bench", password="bench-only")
    clips = {seconds: make_clip(seconds) for seconds in sizes}
    load = os.getloadavg()[0]
    print(
        f"# {' '.join(sys.argv)}  ({platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()})"
    )
    print(
        f"# model {resolve_model_path()} device={settings.WHISPER_DEVICE} compute={settings.WHISPER_COMPUTE_TYPE} "
        f"threads={settings.WHISPER_THREADS} beam={beam_size()} vad=on; load average at start {load:.1f}"
    )

    # 1. The real worker process. It starts before this process loads a model: a child's
    # ru_maxrss also counts the pages it shares with its parent when it is forked.
    submitted = [submit(user, clip)[0] for clip in clips.values()]
    connection.close()
    worker_started = time.perf_counter()
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--batch", "--interval", "0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    _pid, status, usage = os.wait4(worker.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the worker failed"
    worker_wall = time.perf_counter() - worker_started
    drafted = ClipSubmission.objects.filter(pk__in=submitted, state="drafted").count()
    print(
        f"\nworker process (manage.py run_worker --batch): drafted {drafted}/{len(submitted)} clips in "
        f"{worker_wall:.1f} s wall (start-up and model load included), {usage.ru_utime + usage.ru_stime:.1f} s CPU, "
        f"peak memory {usage.ru_maxrss / 1024:.0f} MiB (ru_maxrss)"
    )

    # 2. Worker path against the bare baseline, interleaved, best of --repeat.
    from capture.transcribe import load_model

    load_model()
    print(
        f"\n{'clip':>6} | {'bare wall':>9} {'×RT':>6} {'×CPU':>6} | {'job wall':>8} {'×RT':>6} {'×CPU':>6} | "
        f"{'intake':>6} {'clip→draft':>10} {'vs bare':>7} {'CPU vs bare':>11}"
    )
    for seconds, clip in clips.items():
        bare_runs, worker_runs = [], []
        for _ in range(args.repeat):
            bare_runs.append(bare_baseline(clip))
            worker_runs.append(worker_job(user, clip))
        bare_wall = min(run[0] for run in bare_runs)
        bare_cpu = min(run[1] for run in bare_runs)
        intake = min(run[0] for run in worker_runs)
        job_wall = min(run[1] for run in worker_runs)
        job_cpu = min(run[2] for run in worker_runs)
        to_draft = intake + job_wall
        print(
            f"{seconds:>5}s | {bare_wall:8.2f}s {seconds / bare_wall:5.1f}× {seconds / bare_cpu:5.1f}× | "
            f"{job_wall:7.2f}s {seconds / job_wall:5.1f}× {seconds / job_cpu:5.1f}× | "
            f"{intake:5.2f}s {to_draft:9.2f}s {to_draft / bare_wall:6.2f}× {job_cpu / bare_cpu:10.2f}×"
        )
    print(f"# load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
