"""Timed words into transcript lines: short segments cut at sentence ends and pauses, loops caught.

Whisper's own segments follow its 30-second windows, and a vocabulary prompt makes them coarser
still (a 190 s clip came back as 13 segments, the longest 30 s). Word timestamps do not depend on
the prompt, so the lines are rebuilt from the words: a line ends at a sentence end or a pause, and
never runs past MAX_SEGMENT_SECONDS, so a click on a line starts playback at its words.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from stories.transcripts import HeardWord as Word

# A line is cut at a sentence end once it is this long, at a pause of PAUSE_SECONDS always, and
# at its best pause (or comma) before it would pass MAX_SEGMENT_SECONDS.
MIN_SENTENCE_SECONDS = 1.5
PAUSE_SECONDS = 0.8
MAX_SEGMENT_SECONDS = 10.0
# Text "repeats itself" when a run of this many words comes back this often within 30 s. Three,
# not two: a paragraph read twice 25 s apart is no loop (with two, every piece of such a clip was
# decoded twice, and the worker ran at 2.6× the bare time); a loop repeats many times.
REPEAT_RUN_WORDS = 5
REPEAT_TIMES = 3
REPEAT_WITHIN_SECONDS = 30.0
# In an interview, a line of at most this many words inside the other speaker's line, saying only
# words of theirs, is their voice leaking into this microphone.
ECHO_WORDS = 2

SENTENCE_END = re.compile(r"[.!?…][\"')\]]*$")
CLAUSE_END = re.compile(r"[,;:–—-][\"')\]]*$")
WORD_CHARACTERS = re.compile(r"[^\w']+")
# Capitalised in the middle of a sentence, so no sign that one begins.
NOT_SENTENCE_STARTS = {"I", "I'm", "I've", "I'd", "I'll"}


@dataclass
class Segment:
    """One transcript line: where it starts and ends in the clip, who speaks, and its words."""

    start: float
    end: float
    text: str
    speaker: str = ""
    words: list[Word] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "start": round(self.start, 2),
            "end": round(self.end, 2),
            "text": self.text,
            "speaker": self.speaker,
            "words": [word.as_json() for word in self.words],
        }

    @classmethod
    def from_json(cls, value) -> Segment:
        """A stored segment; the first round stored plain [start, end, text] lists."""
        if isinstance(value, dict):
            return cls(
                float(value["start"]),
                float(value["end"]),
                str(value["text"]),
                str(value.get("speaker", "")),
                [Word.from_json(word) for word in value.get("words", [])],
            )
        start, end, text = value[:3]
        return cls(float(start), float(end), str(text))

    def shifted(self, seconds: float) -> Segment:
        """The same line on a timeline that starts `seconds` earlier (a clip joined after others)."""
        return Segment(
            round(self.start + seconds, 2),
            round(self.end + seconds, 2),
            self.text,
            self.speaker,
            [word.shifted(seconds) for word in self.words],
        )


def words_text(words: Iterable[Word]) -> str:
    return "".join(word.text for word in words).strip()


def _cut_before(words: Sequence[Word]) -> int:
    """Where to cut an over-long run of words: the longest pause (a comma counts double), past its first third."""
    best, best_score = len(words) - 1, -1.0
    for index in range(max(1, len(words) // 3), len(words)):
        pause = words[index].start - words[index - 1].end
        score = pause + (0.3 if CLAUSE_END.search(words[index - 1].text.strip()) else 0.0)
        if score > best_score:
            best, best_score = index, score
    return best


def speech_resumes(speech: Sequence[tuple[float, float]]) -> list[float]:
    """Where the voice detector heard speech start again after a pause, in order."""
    ordered = sorted(speech)
    pairs = zip(ordered, ordered[1:], strict=False)
    return [resumed for (_, paused), (resumed, _) in pairs if resumed > paused]


def _heard_pause(before: Word, after: Word, resumes: Sequence[float]) -> bool:
    """Whether the voice detector heard speech resume after a pause between two words' middles.

    Whisper stretches words over short pauses (a sentence's last word ran 0.44 s into the 0.73 s
    pause after it), so the words' own timestamps miss them.
    """
    middle_before, middle_after = (before.start + before.end) / 2, (after.start + after.end) / 2
    index = bisect.bisect_right(resumes, middle_before)
    return index < len(resumes) and resumes[index] <= middle_after


def _starts_sentence(word: Word) -> bool:
    """A capital after a pause: where Whisper begins a sentence even when it dropped the full stop."""
    text = word.text.strip()
    return bool(text[:1].isupper()) and WORD_CHARACTERS.sub("", text) not in NOT_SENTENCE_STARTS


def resegment(
    words: Sequence[Word],
    *,
    max_seconds: float = MAX_SEGMENT_SECONDS,
    speech: Sequence[tuple[float, float]] = (),
) -> list[Segment]:
    """Lines from timed words: cut at sentence ends and pauses, none longer than `max_seconds`.

    With the voice-activity regions (`speech`), a line is also cut where the detector heard a
    pause before a capitalised word: a sentence whose full stop the decoding left out.
    """
    resumes = speech_resumes(speech)
    segments: list[Segment] = []
    line: list[Word] = []

    def close(upto: int) -> None:
        taken, rest = line[:upto], line[upto:]
        text = words_text(taken)
        if text:
            segments.append(Segment(round(taken[0].start, 2), round(taken[-1].end, 2), text, words=taken))
        line[:] = rest

    for word in words:
        if line:
            previous = line[-1]
            length = previous.end - line[0].start
            sentence_over = length >= MIN_SENTENCE_SECONDS and (
                SENTENCE_END.search(previous.text.strip())
                or (_starts_sentence(word) and _heard_pause(previous, word, resumes))
            )
            if word.start - previous.end >= PAUSE_SECONDS or sentence_over:
                close(len(line))
        line.append(word)
        while len(line) > 1 and line[-1].end - line[0].start > max_seconds:
            close(_cut_before(line))
    if line:
        close(len(line))
    return segments


def without_echoes(segments: Sequence[Segment], *, longest: int = ECHO_WORDS) -> list[Segment]:
    """An interview's lines without the echoes: a short line that only repeats words the other
    speaker was saying at that moment, heard through their microphone.

    Silencing the other channel where it is far louder still lets a word through at the edges
    (measured: a stray "and" on the interviewer's channel, in the teller's sentence, labelled as
    the interviewer's line).
    """
    said = [normalised_words(segment.text) for segment in segments]
    vocabularies = [set(words) for words in said]
    kept = []
    for segment, words, own in zip(segments, said, vocabularies, strict=True):
        echoed = 0 < len(words) <= longest and any(
            other.speaker != segment.speaker
            and other.start <= segment.start
            and segment.end <= other.end
            and own <= other_words
            for other, other_words in zip(segments, vocabularies, strict=True)
        )
        if not echoed:
            kept.append(segment)
    return kept


def normalised_words(text: str) -> list[str]:
    return [word for word in WORD_CHARACTERS.sub(" ", text.lower()).split() if word]


def repeats_itself(
    words: Sequence[Word],
    *,
    run: int = REPEAT_RUN_WORDS,
    times: int = REPEAT_TIMES,
    within: float = REPEAT_WITHIN_SECONDS,
) -> bool:
    """Whether some run of `run` words comes back `times` times within `within` seconds: a decoding loop.

    Loops are local (Whisper repeats what it just wrote), so far-apart repeats of a phrase do not
    count. Real speech can repeat itself too (a chorus, a list read twice); then the piece is only
    decoded again without the vocabulary, which costs time and never harms the words.
    """
    texts = [normalised_words(word.text) for word in words]
    flat = [(text, word.start) for word, parts in zip(words, texts, strict=True) for text in parts]
    seen: dict[tuple[str, ...], list[float]] = {}
    for index in range(len(flat) - run + 1):
        key = tuple(text for text, _start in flat[index : index + run])
        starts = seen.setdefault(key, [])
        start = flat[index][1]
        starts[:] = [earlier for earlier in starts if start - earlier <= within]
        starts.append(start)
        if len(starts) >= times:
            return True
    return False


def snap_to_speech(segments: Sequence[Segment], speech: Sequence[tuple[float, float]]) -> None:
    """Move each line's start (and end) off silence onto the speech around it.

    Whisper's word timestamps often stretch a line's first word back into the pause before it
    (measured: a line starting 1.05 s before its words); a voice-activity detector knows better
    where speech starts. A line starting in a pause starts where the next speech does (if that is
    within the line); a line ending in a pause ends where the speech before it did.
    """
    for segment in segments:
        if not any(start <= segment.start <= end for start, end in speech):
            later = [start for start, _end in speech if segment.start < start < segment.end]
            if later:
                segment.start = round(later[0], 2)
                if segment.words:
                    segment.words[0].start = max(segment.words[0].start, segment.start)
        if not any(start <= segment.end <= end for start, end in speech):
            earlier = [end for _start, end in speech if segment.start < end < segment.end]
            if earlier:
                segment.end = round(earlier[-1], 2)
                if segment.words:
                    segment.words[-1].end = min(segment.words[-1].end, segment.end)


def _regions_without_words(
    words: Sequence[Word], speech: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    middles = [(word.start + word.end) / 2 for word in words]
    return [(start, end) for start, end in speech if not any(start <= middle <= end for middle in middles)]


def unheard_seconds(words: Sequence[Word], speech: Sequence[tuple[float, float]]) -> float:
    """How much speech (voice-activity regions, not the pauses between them) no word was heard in.

    An interview's gated channel keeps slivers of the other voice around that voice's pauses:
    joined into stretches they measured 3.15 s, though they held 1.72 s of sound and no words.
    """
    return sum(end - start for start, end in _regions_without_words(words, speech))


def unheard_spans(
    words: Sequence[Word], speech: Sequence[tuple[float, float]], *, join: float = 2.0, longest: float = 25.0
) -> list[tuple[float, float]]:
    """Stretches of speech (voice-activity regions) in which no word was heard: speech the decoding dropped.

    A vocabulary prompt can make Whisper skip a whole window (measured: the first 28 s of a 55 s
    clip came back empty). Regions less than `join` seconds apart form one stretch, up to `longest`.
    """
    spans: list[list[float]] = []
    for start, end in _regions_without_words(words, speech):
        if spans and start - spans[-1][1] < join and end - spans[-1][0] <= longest:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return [(start, end) for start, end in spans]
