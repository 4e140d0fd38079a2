"""Benchmark: spoken clips of 30 s, 2 min and 10 min through the worker path vs. bare faster-whisper.

Run with `make bench-transcribe` (or `.venv/bin/python bench/transcribe.py [--sizes 30,120,600]`).
Uses its own database and media folder under bench/out/, never the development data.

For each clip it prints:
  * bare:   faster-whisper alone (same model, device, compute type, threads, beam, VAD), audio s / wall s
  * worker: the job as the worker runs it (claim → decode → transcribe → draft story), audio s / wall s
  * clip-to-draft: upload handling (store, hash, probe) + the job, and its ratio to the bare baseline
and the worker process's peak memory (ru_maxrss of a `manage.py run_worker --batch` subprocess).
Targets on a 2-core machine: ≥ 15× real time, clip-to-draft ≤ 1.3× bare, worker peak < 1 GiB.
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


def bare_baseline(clip: Path) -> float:
    """Wall seconds for faster-whisper alone, with the settings the worker uses."""
    from django.conf import settings
    from faster_whisper import WhisperModel

    from capture.transcribe import beam_size, resolve_model_path

    global _bare_model
    if "_bare_model" not in globals():
        _bare_model = WhisperModel(
            resolve_model_path(),
            device=settings.WHISPER_DEVICE,
            compute_type=settings.WHISPER_COMPUTE_TYPE,
            cpu_threads=settings.WHISPER_THREADS,
        )
    started = time.perf_counter()
    segments, _info = _bare_model.transcribe(
        str(clip), language="en", beam_size=beam_size(), vad_filter=True, condition_on_previous_text=False
    )
    words = sum(len(segment.text.split()) for segment in segments)
    elapsed = time.perf_counter() - started
    assert words > 10, "the bare baseline heard nothing"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30,120,600", help="Clip lengths in seconds, comma-separated.")
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
    from django.core.files.uploadedfile import SimpleUploadedFile

    from capture.clip_intake import create_submission
    from capture.models import ClipSubmission
    from capture.transcribe import beam_size, resolve_model_path

    settings.MAX_CLIP_SECONDS = max(settings.MAX_CLIP_SECONDS, max(sizes) + 5)
    user = get_user_model().objects.create_user("bench", password="bench-only")
    clips = {seconds: make_clip(seconds) for seconds in sizes}

    print(
        f"# {' '.join(sys.argv)}  ({platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()})"
    )
    print(
        f"# model {resolve_model_path()} device={settings.WHISPER_DEVICE} compute={settings.WHISPER_COMPUTE_TYPE} "
        f"threads={settings.WHISPER_THREADS} beam={beam_size()} vad=on"
    )

    intake: dict[int, float] = {}
    submissions: dict[int, int] = {}
    for seconds, clip in clips.items():
        started = time.perf_counter()
        upload = SimpleUploadedFile(clip.name, clip.read_bytes(), content_type="audio/ogg")
        submissions[seconds] = create_submission(user, mode="free", uploads={"free": upload}).pk
        intake[seconds] = time.perf_counter() - started

    from django.db import connection

    connection.close()
    # The worker runs before this process loads a model of its own: a child's ru_maxrss counts the
    # pages it shares with its parent at fork time.
    worker_started = time.perf_counter()
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--batch", "--interval", "0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    _pid, status, usage = os.wait4(worker.pid, 0)
    worker.returncode = os.waitstatus_to_exitcode(status)
    assert worker.returncode == 0, f"the worker exited with {worker.returncode}"
    worker_wall = time.perf_counter() - worker_started
    peak_mib = usage.ru_maxrss / 1024

    bare: dict[int, float] = {}
    for seconds, clip in clips.items():
        bare[seconds] = bare_baseline(clip)

    print()
    print(
        f"{'clip':>6} | {'bare s':>7} {'bare ×RT':>8} | {'job s':>7} {'job ×RT':>8} | "
        f"{'intake s':>8} {'clip→draft s':>12} {'vs bare':>7} | state"
    )
    for seconds in sizes:
        submission = ClipSubmission.objects.get(pk=submissions[seconds])
        duration = submission.total_duration
        job = (
            (submission.finished_at - submission.started_at).total_seconds()
            if submission.finished_at
            else float("nan")
        )
        to_draft = intake[seconds] + job
        print(
            f"{seconds:>5}s | {bare[seconds]:7.2f} {duration / bare[seconds]:7.1f}× | {job:7.2f} {duration / job:7.1f}× | "
            f"{intake[seconds]:8.2f} {to_draft:12.2f} {to_draft / bare[seconds]:6.2f}× | {submission.state}"
        )
    print()
    print(
        f"worker process: {worker_wall:.1f} s wall for all clips (start-up and model load included), "
        f"peak memory {peak_mib:.0f} MiB (ru_maxrss)"
    )


if __name__ == "__main__":
    main()
