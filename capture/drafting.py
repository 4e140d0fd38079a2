"""From transcript to draft story: title, the three story fields, themes and people to suggest.

Everything here is a suggestion an editor will check; the aim is a draft that needs trimming,
not writing.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from django.core.files.images import ImageFile
from django.utils import timezone
from wagtail.images import get_image_model

from capture.segments import Segment
from stories.models import Clip, Person, Source, StoryPage, Theme, TranscriptSegment
from stories.services import create_draft
from stories.transcripts import spoken_lines

TITLE_MAX_CHARACTERS = 80
CLIP_SLUG_MAX_LENGTH = 70
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
AHA_CUES = re.compile(
    r"\b(realis|realiz|aha|figured out|discover|noticed|it clicked|clicked|turns out|turned out|"
    r"learn|understood|suddenly|the idea|lightbulb|light bulb|that's when|that is when)",
    re.IGNORECASE,
)
OUTCOME_CUES = re.compile(
    r"\b(now |since then|as a result|saved|ever since|today|these days|from then on|the result|"
    r"we now|it now|afterwards|in the end|changed)",
    re.IGNORECASE,
)
STOP_WORDS = {
    "about", "after", "and", "from", "have", "into", "that", "the", "their", "them", "then", "this",
    "with", "work", "working", "your", "what", "when", "where", "which", "more", "other",
}  # fmt: skip


def split_sentences(text: str) -> list[str]:
    return [sentence.strip() for sentence in SENTENCE_END.split(text.strip()) if sentence.strip()]


def suggest_title(text: str) -> str:
    """The opening sentence, trimmed at a word boundary: tellers usually start with what it is about."""
    sentences = split_sentences(text)
    if not sentences:
        return f"A story told on {timezone.localdate():%d %B %Y}"
    title = sentences[0].rstrip(".!?… ").strip()
    for filler in ("so ", "well ", "okay ", "ok ", "um ", "uh ", "yeah "):
        if title.lower().startswith(filler):
            title = title[len(filler) :].lstrip(", ")
    if len(title) > TITLE_MAX_CHARACTERS:
        cut = title[:TITLE_MAX_CHARACTERS].rsplit(" ", 1)[0].rstrip(",;:-– ")
        title = f"{cut}…"
    return title[:1].upper() + title[1:] if title else f"A story told on {timezone.localdate():%d %B %Y}"


def tellers_words(segments: Iterable[Segment], *, among: Iterable[Segment] | None = None) -> str:
    """In an interview, the story is what the teller said: the speaker who said the most words
    (in `among`, the whole telling, when `segments` are one of its clips).

    An interviewer's questions stay in the transcript, but make poor titles and story fields. Empty
    when the telling has fewer than two speakers.
    """
    segments = list(segments)
    words_by_speaker = _words_by_speaker(segments if among is None else among)
    if len(words_by_speaker) < 2:
        return ""
    teller = max(words_by_speaker, key=lambda speaker: (words_by_speaker[speaker], speaker))
    return " ".join(segment.text.strip() for segment in segments if segment.speaker == teller).strip()


def heard_text(segments: Iterable[Segment], transcript: str) -> str:
    """What the teller is shown they said: an interview line by line, each with its speaker."""
    segments = list(segments)
    if len(_words_by_speaker(segments)) < 2:
        return transcript
    return "\n\n".join(spoken_lines(segments))


def _words_by_speaker(segments: Iterable[Segment]) -> Counter:
    """How many words each named speaker said (a clip that is no interview names nobody)."""
    counts = Counter()
    for segment in segments:
        if segment.speaker:
            counts[segment.speaker] += len(segment.text.split())
    return counts


def split_free_telling(text: str) -> tuple[str, str, str]:
    """Context, aha and outcome from one free telling, split where the teller says they realised something."""
    sentences = split_sentences(text)
    if not sentences:
        return "", "", ""
    aha_index = next(
        (i for i, sentence in enumerate(sentences) if i > 0 and AHA_CUES.search(sentence)),
        None,
    )
    if aha_index is None:
        aha_index = next((i for i, sentence in enumerate(sentences) if AHA_CUES.search(sentence)), None)
    if aha_index is None:
        if len(sentences) < 3:
            return "", " ".join(sentences), ""
        third = max(len(sentences) // 3, 1)
        return (
            " ".join(sentences[:third]),
            " ".join(sentences[third : len(sentences) - third]),
            " ".join(sentences[len(sentences) - third :]),
        )
    outcome_index = next(
        (i for i in range(aha_index + 1, len(sentences)) if OUTCOME_CUES.search(sentences[i])),
        None,
    )
    if outcome_index is None:
        outcome_index = aha_index + 1
    return (
        " ".join(sentences[:aha_index]),
        " ".join(sentences[aha_index:outcome_index]),
        " ".join(sentences[outcome_index:]),
    )


def _contains_phrase(haystack: str, phrase: str) -> bool:
    phrase = phrase.strip().lower()
    if not phrase:
        return False
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", haystack) is not None


def _theme_words(theme: Theme) -> set[str]:
    words = re.findall(r"[a-z][a-z'-]+", f"{theme.name} {theme.slug.replace('-', ' ')}".lower())
    return {word for word in words if len(word) >= 4 and word not in STOP_WORDS}


def suggest_themes(text: str, themes: Iterable[Theme] | None = None, *, limit: int = 4) -> list[Theme]:
    """Approved themes whose name, or a distinctive word of it, the teller said; best matches first."""
    lowered = text.lower()
    themes = Theme.objects.filter(is_approved=True) if themes is None else themes
    scored: list[tuple[int, str, Theme]] = []
    for theme in themes:
        score = 10 * len(re.findall(rf"(?<!\w){re.escape(theme.name.lower())}(?!\w)", lowered))
        for word in _theme_words(theme):
            stem = word[:-1] if word.endswith("s") and len(word) > 4 else word
            score += len(re.findall(rf"(?<!\w){re.escape(stem)}\w*", lowered))
        if score:
            scored.append((-score, theme.name, theme))
    return [theme for _score, _name, theme in sorted(scored, key=lambda item: item[:2])[:limit]]


def suggest_people(
    text: str, people: Iterable[Person] | None = None, *, exclude: Person | None = None
) -> list[Person]:
    """People in the directory whose full name the teller said (not the teller themself)."""
    lowered = text.lower()
    people = Person.objects.all() if people is None else people
    found = []
    for person in people:
        if exclude is not None and person.pk == exclude.pk:
            continue
        if len(person.name.strip()) >= 4 and _contains_phrase(lowered, person.name):
            found.append(person)
    return found


def save_poster_image(jpeg: bytes, *, title: str, user) -> object:
    """Store a poster frame as a Wagtail image, so editors can reuse or replace it like any other."""
    image_model = get_image_model()
    image = image_model(
        title=title[:255],
        uploaded_by_user=user,
        file=ImageFile(io.BytesIO(jpeg), name=f"poster-{timezone.now():%Y%m%d%H%M%S}.jpg"),
    )
    image.file_size = len(jpeg)
    image.save()
    return image


def create_draft_story(
    *,
    user,
    clip: Clip,
    segments: Sequence[Segment],
    fields: dict[str, str],
    transcript: str,
    source: str,
    consent: bool,
    visibility: str,
    cover_image=None,
) -> StoryPage:
    """A draft StoryPage in the library, told by the submitter, with its clip and timed transcript."""
    return create_draft(
        user,
        title=suggest_title(fields.get("context") or fields.get("aha") or transcript),
        source=source if source in Source.values else Source.VOICE,
        slug_max_length=CLIP_SLUG_MAX_LENGTH,
        clip=clip,
        context=fields.get("context", ""),
        aha=fields.get("aha", ""),
        outcome=fields.get("outcome", ""),
        consent=consent,
        visibility=visibility,
        cover_image=cover_image,
        themes=suggest_themes(transcript),
        people=suggest_people(transcript, exclude=Person.for_user(user)),
        transcript_segments=[
            TranscriptSegment(
                start=segment.start,
                end=segment.end,
                text=segment.text,
                speaker=segment.speaker,
                words=[word.as_json() for word in segment.words],
                sort_order=index,
            )
            for index, segment in enumerate(segments)
        ],
    )
