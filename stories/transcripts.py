"""A story's timed transcript written out as plain text, WebVTT captions or SubRip subtitles.

The same segments feed the download links, the <track> captions of a video clip and the
clickable transcript beside the player, so every surface shows the same words at the same times.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from stories.params import BadParameter, QueryParams

TRANSCRIPT_FORMATS = {
    "txt": "text/plain; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
}
MAX_START_TIME_LENGTH = 20
# A word heard with less than this probability is marked for editors to check first.
LOW_CONFIDENCE = 0.5


@dataclass
class HeardWord:
    """One word as the model heard it: times, its probability, and whether the vocabulary spelled it.

    Stored on each transcript segment as [start, end, word, probability, vocabulary] (capture writes
    them, the admin's transcript editor marks them).
    """

    start: float
    end: float
    text: str
    probability: float = 1.0
    vocabulary: bool = False

    def as_json(self) -> list:
        return [
            round(self.start, 2),
            round(self.end, 2),
            self.text,
            round(self.probability, 3),
            self.vocabulary,
        ]

    @classmethod
    def from_json(cls, value) -> HeardWord:
        values = list(value)
        start, end, text, probability, vocabulary = (values + [1.0, False][max(len(values) - 3, 0) :])[:5]
        return cls(float(start), float(end), str(text), float(probability), bool(vocabulary))

    @property
    def is_unsure(self) -> bool:
        return self.probability < LOW_CONFIDENCE

    def shifted(self, seconds: float) -> HeardWord:
        """The same word on a timeline that starts `seconds` earlier."""
        return HeardWord(
            self.start + seconds, self.end + seconds, self.text, self.probability, self.vocabulary
        )


class TimedLine(Protocol):
    start: float
    end: float
    text: str
    speaker: str  # "" unless the clip is an interview with one speaker per channel


def _split_seconds(seconds: float) -> tuple[int, int, int, int]:
    total_ms = max(0, round(float(seconds) * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole_seconds, milliseconds = divmod(rest, 1000)
    return hours, minutes, whole_seconds, milliseconds


def vtt_timestamp(seconds: float) -> str:
    """WebVTT cue time, always with hours: 83.5 → "00:01:23.500"."""
    hours, minutes, whole_seconds, milliseconds = _split_seconds(seconds)
    return f"{hours:02d}:{minutes:02d}:{whole_seconds:02d}.{milliseconds:03d}"


def srt_timestamp(seconds: float) -> str:
    """SubRip cue time (comma before the milliseconds): 83.5 → "00:01:23,500"."""
    hours, minutes, whole_seconds, milliseconds = _split_seconds(seconds)
    return f"{hours:02d}:{minutes:02d}:{whole_seconds:02d},{milliseconds:03d}"


def clock_time(seconds: float) -> str:
    """A reader's clock: 83 → "1:23", 3723 → "1:02:03"."""
    hours, minutes, whole_seconds, _ = _split_seconds(int(max(0, float(seconds))))
    if hours:
        return f"{hours}:{minutes:02d}:{whole_seconds:02d}"
    return f"{minutes}:{whole_seconds:02d}"


def _cue_text(text: str) -> str:
    """Cue text on one line; a blank line or "-->" would end or break a cue."""
    return " ".join(text.split()).replace("-->", "→")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str
    speaker: str


def _cues(segments: Iterable[TimedLine]) -> list[Cue]:
    cues = []
    for segment in segments:
        text = _cue_text(segment.text)
        if not text:
            continue
        start = max(0.0, float(segment.start))
        end = max(start, float(segment.end))
        cues.append(Cue(start, end, text, _cue_text(getattr(segment, "speaker", "") or "")))
    return cues


def _vtt_escape(text: str) -> str:
    """Cue text as WebVTT reads it: "&", "<" and ">" written as entities, so no word becomes a tag."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _with_speaker(cue: Cue) -> str:
    return f"{cue.speaker}: {cue.text}" if cue.speaker else cue.text


def spoken_lines(segments: Iterable[TimedLine]) -> list[str]:
    """Each line's words, led by its speaker's name when it has one ("Ana: words")."""
    return [_with_speaker(cue) for cue in _cues(segments)]


def transcript_as_text(segments: Iterable[TimedLine], *, title: str = "") -> str:
    """Plain text, one timed line per segment: "[1:23] words", or "[1:23] Speaker: words"."""
    lines = [title, ""] if title else []
    lines += [f"[{clock_time(cue.start)}] {_with_speaker(cue)}" for cue in _cues(segments)]
    return "\n".join(lines) + "\n"


def transcript_as_vtt(segments: Iterable[TimedLine]) -> str:
    """A WebVTT file: usable as <track kind="captions"> and by any caption editor; speakers as voice tags."""
    blocks = ["WEBVTT"]
    for number, cue in enumerate(_cues(segments), start=1):
        text = _vtt_escape(cue.text)
        if cue.speaker:
            text = f"<v {_vtt_escape(cue.speaker)}>{text}</v>"
        blocks.append(f"{number}\n{vtt_timestamp(cue.start)} --> {vtt_timestamp(cue.end)}\n{text}")
    return "\n\n".join(blocks) + "\n"


def transcript_as_srt(segments: Iterable[TimedLine]) -> str:
    """A SubRip (.srt) file, numbered from 1; a speaker's name leads their lines."""
    blocks = [
        f"{number}\n{srt_timestamp(cue.start)} --> {srt_timestamp(cue.end)}\n{_with_speaker(cue)}"
        for number, cue in enumerate(_cues(segments), start=1)
    ]
    return "\n\n".join(blocks) + "\n" if blocks else ""


def render_transcript(segments: Iterable[TimedLine], transcript_format: str, *, title: str = "") -> str:
    """The transcript in one of TRANSCRIPT_FORMATS ("txt", "vtt", "srt")."""
    if transcript_format == "vtt":
        return transcript_as_vtt(segments)
    if transcript_format == "srt":
        return transcript_as_srt(segments)
    if transcript_format == "txt":
        return transcript_as_text(segments, title=title)
    raise ValueError(f"Unknown transcript format: {transcript_format}")


def read_start_time(params: Mapping) -> float | None:
    """The `?t=` of a story link, in seconds, or None.

    A word that is not a time ("soon") or a time past a day is ignored, so the story still opens at
    the start; a repeated or overlong value, or digits other than 0-9, raise BadParameter (a 400).
    """
    value = QueryParams(params).text("t", max_length=MAX_START_TIME_LENGTH)
    if not value.isascii():
        raise BadParameter("t", "must be a time written with the digits 0-9, like 83, 1:23 or 1m23s")
    return parse_start_time(value)


def parse_start_time(value: str | None) -> float | None:
    """A start time in seconds: "83", "83.5", "1:23", "1m23s", "2m"; None if unusable."""
    if not value:
        return None
    value = value.strip().lower()
    if len(value) > MAX_START_TIME_LENGTH or not value.isascii():  # float() also reads "١٢" as 12
        return None
    try:
        if ":" in value:
            seconds = 0.0
            for part in value.split(":"):
                seconds = seconds * 60 + float(part)
        elif value[-1] in "hms" and not value.replace(".", "", 1).isdigit():
            seconds, number = 0.0, ""
            units = {"h": 3600, "m": 60, "s": 1}
            for char in value:
                if char.isdigit() or char == ".":
                    number += char
                elif char in units and number:
                    seconds += float(number) * units[char]
                    number = ""
                else:
                    return None
            if number:
                return None
        else:
            seconds = float(value)
    except ValueError:
        return None
    if seconds != seconds or seconds < 0 or seconds > 86_400:  # NaN, negative, over a day
        return None
    return seconds
