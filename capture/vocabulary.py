"""The words Whisper is biased toward for one clip, and names put right after decoding.

Tiny models misspell names and jargon ("comfy eye" for ComfyUI), so decoding is prompted with the
directory's names and theme words. The prompt is small (Whisper gives it about 224 tokens, and a
long prompt makes loops likelier), so each clip gets the names most likely in it: the teller's own,
then the people who told or helped in stories with the teller, the teller's themes, and only then
the rest of the directory, most-used first. A window decoded again without the prompt (see
capture.transcribe) still gets the directory's names spelled right by `respell`.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db.models import Count, Q

from capture.segments import Word
from stories.models import Person, Theme

# Hotword tokens per clip (Whisper's prompt holds 223). Measured on the demo directory: with 110,
# decoding was 30 % slower and a prompted window dropped 28 s of speech; with 50, neither.
HOTWORD_TOKEN_BUDGET = 50
# A heard run of words is respelled as a name when their letters are this alike (difflib ratio).
RESPELL_SIMILARITY = 0.7


@dataclass(frozen=True)
class Vocabulary:
    """The words one clip is decoded with (`hotwords`, Whisper's prompt) and the names `respell` puts right."""

    terms: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    @property
    def hotwords(self) -> str:
        return ", ".join(self.terms)


def _ordered_unique(values) -> list[str]:
    seen: set[str] = set()
    ordered = []
    for value in values:
        value = " ".join(str(value).split())
        if value and value.lower() not in seen:
            seen.add(value.lower())
            ordered.append(value)
    return ordered


def candidates_for(teller: Person | None) -> tuple[list[str], set[str]]:
    """Directory terms, most likely in this teller's clip first; and which of them are people's names."""
    everyone = list(
        Person.objects.annotate(
            uses=Count("stories_told", distinct=True) + Count("stories_helped", distinct=True)
        )
        .order_by("-uses", "name")
        .values_list("name", flat=True)
    )
    themes = list(
        Theme.objects.filter(is_approved=True)
        .annotate(uses=Count("stories"))
        .order_by("-uses", "name")
        .values_list("name", flat=True)
    )
    close_people: list[str] = []
    close_themes: list[str] = []
    if teller is not None:
        together = Q(stories_told__teller=teller) | Q(stories_told__people=teller)
        together |= Q(stories_helped__teller=teller) | Q(stories_helped__people=teller)
        close_people = list(
            Person.objects.filter(together)
            .exclude(pk=teller.pk)
            .annotate(shared=Count("pk"))
            .order_by("-shared", "name")
            .values_list("name", flat=True)
        )
        close_themes = list(
            Theme.objects.filter(is_approved=True)
            .filter(Q(stories__teller=teller) | Q(stories__people=teller))
            .annotate(shared=Count("pk"))
            .order_by("-shared", "name")
            .values_list("name", flat=True)
        )
    ordered = _ordered_unique(
        ([teller.name] if teller is not None else []) + close_people + close_themes + themes + everyone
    )
    names = {name.lower() for name in everyone}
    return ordered, names


def approximate_tokens(text: str) -> int:
    """About four characters a token, for when the model's tokenizer is not at hand."""
    return max(1, len(text) // 4 + 1)


def vocabulary_for(
    teller: Person | None,
    *,
    count_tokens: Callable[[str], int] = approximate_tokens,
    budget: int = HOTWORD_TOKEN_BUDGET,
) -> Vocabulary:
    """The most likely terms for this teller's clip that fit the prompt budget, counted in model tokens."""
    ordered, names = candidates_for(teller)
    return Vocabulary(
        terms=within_budget(ordered, count_tokens=count_tokens, budget=budget),
        names=tuple(name for name in ordered if name.lower() in names and " " in name),
    )


def within_budget(
    ordered: Sequence[str], *, count_tokens: Callable[[str], int], budget: int = HOTWORD_TOKEN_BUDGET
) -> tuple[str, ...]:
    """The terms, in order, that fit the prompt budget together (one too long is skipped, not the end)."""
    terms: list[str] = []
    for term in ordered:
        if count_tokens(", ".join([*terms, term])) <= budget:
            terms.append(term)
    return tuple(terms)


def _letters(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in folded if char.isalnum())


def _surface(text: str) -> str:
    return "".join(char for char in text.lower() if char.isalnum())


def respell(words: Sequence[Word], names: Sequence[str]) -> list[Word]:
    """The words with near-misses of directory names ("Lena Fisher") spelled as the directory has them.

    Only full names of two words or more, only runs of as many heard words whose first letters match
    the name's, and only when the letters are RESPELL_SIMILARITY alike; a respelled word is marked as
    spelled by the vocabulary, so an editor checks it.
    """
    words = list(words)
    for name in names:
        parts = name.split()
        size = len(parts)
        target = _letters(name)
        initials = [_letters(part)[:1] for part in parts]
        index = 0
        while index + size <= len(words):
            run = words[index : index + size]
            heard = [word.text.strip() for word in run]
            if [_letters(text)[:1] for text in heard] == initials:
                similarity = difflib.SequenceMatcher(None, _letters("".join(heard)), target).ratio()
                if similarity >= RESPELL_SIMILARITY and _surface("".join(heard)) != _surface(
                    name.replace(" ", "")
                ):
                    for word, part, text in zip(run, parts, heard, strict=True):
                        tail = text[len(text.rstrip(".,;:!?…")) :]
                        leading = word.text[: len(word.text) - len(word.text.lstrip())]
                        word.text, word.vocabulary = f"{leading}{part}{tail}", True
                    index += size
                    continue
            index += 1
    return words


def mark_vocabulary_words(words: Sequence[Word], vocabulary: Vocabulary) -> None:
    """Mark heard words that spell part of a name in the prompt: the prompt may have put them there."""
    prompted = {term.lower() for term in vocabulary.terms}
    parts = {_letters(part) for name in vocabulary.names if name.lower() in prompted for part in name.split()}
    for word in words:
        letters = _letters(word.text)
        if len(letters) >= 3 and letters in parts and word.text.strip()[:1].isupper():
            word.vocabulary = True
