"""Benchmark: how trustworthy transcripts are — WER, line lengths, timing, invented repeats, speakers.

Run with `make bench-transcript-quality` (or `.venv/bin/python bench/transcript_quality.py
[--minutes 10] [--beams 1,5]`). Generates its corpus under bench/out/quality/ with espeak-ng:
every clip is built sentence by sentence, so where each sentence starts is known exactly.

Corpus: varied text with names from the demo directory in several voices and speeds (10 s to
--minutes long), one sentence said 20 times (the looping case), and a two-microphone interview
(one speaker per channel, the second starting while the first still speaks, 10 % crosstalk).

Each clip goes through:
- `bare`: faster-whisper with its default settings (beam 5, temperature fallback, previous-text
  conditioning, no VAD) on the mono mix — what you get without Storybank;
- Storybank's path (`capture.transcribe.transcribe_clip`), with and without the directory's
  vocabulary as hotwords, at each beam size.

Reported per clip and path: WER against the spoken text; lines (count, median and longest
seconds); timing (median and worst distance from each spoken sentence's start to the nearest
line start — what a click on a line is off by); repeats of the looped sentence beyond those
spoken; speakers right (share of lines labelled with the channel they were spoken on); and speed
(audio seconds per wall second, and per CPU second of this process).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "quality"
RATE = 16_000
DEMO = ROOT / "stories" / "fixtures" / "demo"

VARIED = [
    "When I joined the support team, customer questions sat in one shared inbox for days.",
    "Nobody owned them, and the same answers were written again and again.",
    "One afternoon Grace Mensah suggested we post each question on the internal network instead.",
    "Within an hour an engineer from another office answered, and three colleagues added tips.",
    "Nikolai Petrov had solved the same problem two years earlier and wrote it down.",
    "Since then we keep every answer in one place, and customers hear back the same day.",
    "Lena Fischer told me that the expert on corrosion was two floors up.",
    "We saved about two days a week, and new starters learn faster because the answers are there.",
    "Marcus Adeyemi showed us the shared board during onboarding.",
    "Working out loud felt strange at first, but it meant help arrived before the work was finished.",
    "Kenji Watanabe now runs a short session for every new team.",
    "The best answer is usually already written down somewhere, and finding it is a team sport.",
]
LOOPED = "Lena Fischer told me that the expert on corrosion was two floors up, and that changed how our team asks for help."
LOOPED_TIMES = 20
INTERVIEW = [
    ("left", "Tell me about the moment it clicked for you."),
    ("right", "It was when Grace Mensah answered my question in the network within an hour."),
    ("left", "What did you do differently after that?"),
    ("right", "I stopped writing long e-mails and posted every question where everyone could see it."),
    ("left", "And what changed for the team?"),
    ("right", "New starters find the answers on their own, and we save about two days a week."),
]
VOICES = [("en-us", 150), ("en-gb", 165), ("en-us+f3", 175), ("en-gb-x-rp", 140)]


@dataclass
class Clip:
    name: str
    audio: np.ndarray  # mono, or (2, n) for the interview
    sentences: list[tuple[float, float, str, str]] = field(
        default_factory=list
    )  # (start, end, text, channel)

    @property
    def seconds(self) -> float:
        return self.audio.shape[-1] / RATE

    @property
    def reference(self) -> str:
        return " ".join(text for _start, _end, text, _channel in sorted(self.sentences))


def spoken(text: str, voice: str, speed: int) -> np.ndarray:
    """One sentence from espeak-ng, as 16 kHz float32 samples (cached on disk)."""
    from capture.media_probe import decode_audio

    key = re.sub(r"[^a-z0-9]+", "-", f"{voice}-{speed}-{text.lower()}")[:120]
    wav = OUT / "sentences" / f"{key}.wav"
    if not wav.exists():
        wav.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True)
    return decode_audio(wav, max_seconds=3600)


def trimmed(samples: np.ndarray) -> np.ndarray:
    """The sentence without espeak's leading and trailing silence, so its start is where the voice starts."""
    loud = np.flatnonzero(np.abs(samples) > 0.01)
    return samples[loud[0] : loud[-1] + 1] if len(loud) else samples


def build(sentences: list[str], *, seconds: float, voice: str, speed: int, seed: int) -> Clip:
    """Sentences in turn (cycling) with pauses of 0.3–1.2 s, until the clip lasts `seconds`."""
    rng = np.random.default_rng(seed)
    pieces, marks, clock, index = [], [], 0.0, 0
    while clock < seconds - 2:
        text = sentences[index % len(sentences)]
        voice_samples = trimmed(spoken(text, voice, speed))
        if clock + len(voice_samples) / RATE > seconds and marks:
            break
        marks.append((round(clock, 3), round(clock + len(voice_samples) / RATE, 3), text, "mono"))
        pieces.append(voice_samples)
        clock += len(voice_samples) / RATE
        pause = np.zeros(int(rng.uniform(0.3, 1.2) * RATE), dtype=np.float32)
        pieces.append(pause)
        clock += len(pause) / RATE
        index += 1
    return Clip(f"varied-{int(round(clock))}s-{voice}-{speed}", np.concatenate(pieces), marks)


def looped_clip() -> Clip:
    one = trimmed(spoken(LOOPED, "en-us", 160))
    pause = np.zeros(int(0.5 * RATE), dtype=np.float32)
    every = (len(one) + len(pause)) / RATE
    marks = [
        (round(i * every, 3), round(i * every + len(one) / RATE, 3), LOOPED, "mono")
        for i in range(LOOPED_TIMES)
    ]
    audio = np.concatenate([np.concatenate([one, pause]) for _ in range(LOOPED_TIMES)])
    return Clip(f"looped-{int(round(len(audio) / RATE))}s", audio, marks)


def interview_clip(crosstalk: float = 0.1) -> Clip:
    """Turns on two channels; each starts 0.8 s before the one before it ends (they overlap)."""
    voices = {"left": ("en-gb", 160), "right": ("en-us", 155)}
    turns = [(channel, text, trimmed(spoken(text, *voices[channel]))) for channel, text in INTERVIEW]
    clock, marks, placed = 0.0, [], []
    for channel, text, samples in turns:
        marks.append((round(clock, 3), round(clock + len(samples) / RATE, 3), text, channel))
        placed.append((int(clock * RATE), channel, samples))
        clock += len(samples) / RATE - 0.8  # the next turn starts 0.8 s before this one ends
    length = max(start + len(samples) for start, _channel, samples in placed) + RATE // 2
    tracks = {"left": np.zeros(length, dtype=np.float32), "right": np.zeros(length, dtype=np.float32)}
    for start, channel, samples in placed:
        tracks[channel][start : start + len(samples)] += samples
    stereo = np.stack(
        [tracks["left"] + crosstalk * tracks["right"], tracks["right"] + crosstalk * tracks["left"]]
    )
    return Clip(f"interview-{int(round(length / RATE))}s-stereo", stereo.astype(np.float32), marks)


def corpus(minutes: float) -> list[Clip]:
    clips = [
        build(VARIED, seconds=14, voice="en-us", speed=150, seed=1),
        build(VARIED, seconds=60, voice="en-gb", speed=165, seed=2),
        build(VARIED[::-1], seconds=190, voice="en-us+f3", speed=175, seed=3),
    ]
    if minutes >= 5:
        clips.append(build(VARIED, seconds=minutes * 60, voice="en-gb-x-rp", speed=140, seed=4))
    return [*clips, looped_clip(), interview_clip()]


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))


def wer(reference: str, hypothesis: str) -> float:
    ref, hyp = words_of(reference), words_of(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, hyp_word in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
        previous = current
    return previous[-1] / max(len(ref), 1)


@dataclass
class Lines:
    """What a path returned: (start, end, text, speaker) lines."""

    lines: list[tuple[float, float, str, str]]
    wall: float
    cpu: float


def bare(clip: Clip) -> Lines:
    from capture.channels import mono_mix
    from capture.transcribe import load_model

    model = load_model()
    wall, cpu = time.perf_counter(), time.process_time()
    segments, _info = model.transcribe(mono_mix(clip.audio), language="en")
    lines = [(s.start, s.end, s.text.strip(), "") for s in segments]
    return Lines(lines, time.perf_counter() - wall, time.process_time() - cpu)


def storybank(clip: Clip, vocabulary, beam: int) -> Lines:
    from django.conf import settings

    from capture.transcribe import transcribe_clip

    settings.WHISPER_BEAM_SIZE = beam
    wall, cpu = time.perf_counter(), time.process_time()
    result = transcribe_clip(clip.audio, vocabulary=vocabulary, speakers=["left", "right"])
    lines = [(s.start, s.end, s.text, s.speaker) for s in result.segments]
    return Lines(lines, time.perf_counter() - wall, time.process_time() - cpu)


def measure(clip: Clip, heard: Lines) -> dict:
    ordered = sorted(heard.lines)
    text = " ".join(line[2] for line in ordered)
    lengths = [end - start for start, end, _text, _speaker in ordered] or [0.0]
    starts = [start for start, _end, _text, _speaker in ordered]
    errors = [
        min(abs(start - mark) for start in starts) if starts else float("inf") for mark, *_ in clip.sentences
    ]
    row = {
        "wer": wer(clip.reference, text),
        "lines": len(ordered),
        "median_s": statistics.median(lengths),
        "max_s": max(lengths),
        "start_error_median_s": statistics.median(errors),
        "start_error_max_s": max(errors),
        "x_realtime": clip.seconds / heard.wall,
        "x_cpu": clip.seconds / max(heard.cpu, 1e-9),
    }
    if clip.name.startswith("looped"):
        row["extra_repeats"] = len(re.findall(r"corrosion", text.lower())) - LOOPED_TIMES
    if clip.audio.ndim == 2:
        right = 0
        for start, end, _text, speaker in ordered:
            # The sentence this line overlaps most is the one it transcribes; was it said on this channel?
            best = max(clip.sentences, key=lambda sentence: min(end, sentence[1]) - max(start, sentence[0]))
            right += speaker == best[3]
        row["speakers_right"] = right / max(len(ordered), 1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="Length of the longest varied clip.")
    parser.add_argument("--beams", default="1,5", help="Beam sizes for Storybank's path, comma-separated.")
    parser.add_argument("--json", type=Path, help="Also write the rows to this file.")
    parser.add_argument("--only", default="", help="Run only the clips whose name contains this.")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storybank.settings")
    os.environ.setdefault("STORYBANK_VAR_DIR", str(OUT / "var"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    from capture.transcribe import count_tokens, load_model, resolve_model_path
    from capture.vocabulary import Vocabulary, within_budget

    load_model()
    names = [json.loads(line)["name"] for line in (DEMO / "people.jsonl").read_text().splitlines() if line]
    themes = [json.loads(line)["name"] for line in (DEMO / "themes.jsonl").read_text().splitlines() if line]
    # The worker's choice with no teller: names, then themes, within the budget.
    terms = within_budget(names + themes, count_tokens=count_tokens)
    vocabulary = Vocabulary(terms=terms, names=tuple(names))
    clips = [clip for clip in corpus(args.minutes) if args.only in clip.name]
    print(
        f"# {' '.join(sys.argv)}  ({platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()})"
    )
    print(
        f"# model {resolve_model_path()} compute={settings.WHISPER_COMPUTE_TYPE} threads={settings.WHISPER_THREADS}; "
        f"{len(terms)} hotwords ({count_tokens(vocabulary.hotwords)} tokens); load average {os.getloadavg()[0]:.1f}"
    )
    header = (
        f"{'clip':<28} {'path':<16} {'WER':>5} {'lines':>5} {'median':>6} {'max':>5} {'start err':>9} "
        f"{'worst':>5} {'repeats':>7} {'speakers':>8} {'×RT':>5} {'×CPU':>5}"
    )
    print(header)
    rows = []
    paths = [("bare", lambda clip: bare(clip))]
    for beam in [int(beam) for beam in args.beams.split(",")]:
        paths.append((f"plain beam {beam}", lambda clip, beam=beam: storybank(clip, None, beam)))
        paths.append((f"hotwords beam {beam}", lambda clip, beam=beam: storybank(clip, vocabulary, beam)))
    for clip in clips:
        for label, run in paths:
            row = {
                "clip": clip.name,
                "seconds": round(clip.seconds, 1),
                "path": label,
                **measure(clip, run(clip)),
            }
            rows.append(row)
            repeats = f"{row['extra_repeats']:+d}" if "extra_repeats" in row else "–"
            speakers = f"{row['speakers_right']:.0%}" if "speakers_right" in row else "–"
            print(
                f"{clip.name:<28} {label:<16} {row['wer']:5.2f} {row['lines']:5d} {row['median_s']:5.1f}s "
                f"{row['max_s']:4.1f}s {row['start_error_median_s']:8.2f}s {row['start_error_max_s']:4.1f}s "
                f"{repeats:>7} {speakers:>8} {row['x_realtime']:5.1f} {row['x_cpu']:5.1f}",
                flush=True,
            )
    print(f"# load average at the end {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
