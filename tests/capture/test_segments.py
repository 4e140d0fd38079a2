"""Lines from timed words, loop detection, names respelled, the bias list chosen per clip, interviews told apart."""

import numpy as np
import pytest

from capture.channels import interview_channels, is_two_speaker_interview, speaker_channels
from capture.segments import (
    MAX_SEGMENT_SECONDS,
    Segment,
    Word,
    repeats_itself,
    resegment,
    unheard_seconds,
    unheard_spans,
    without_echoes,
)
from capture.transcribe import speaker_labels
from capture.vocabulary import Vocabulary, mark_vocabulary_words, respell, vocabulary_for
from stories.transcripts import HeardWord, transcript_as_srt, transcript_as_text, transcript_as_vtt
from tests.factories import PersonFactory, StoryPageFactory, ThemeFactory


def timed(text: str, *, start: float = 0.0, step: float = 0.4, gap_after: dict | None = None) -> list[Word]:
    """Words of `text` a `step` apart, with extra pauses after the words numbered in `gap_after`."""
    words, clock = [], start
    for index, token in enumerate(text.split()):
        words.append(Word(clock, clock + step * 0.8, f" {token}", 0.9))
        clock += step + (gap_after or {}).get(index, 0.0)
    return words


def test_lines_end_at_sentence_ends_and_pauses():
    words = timed("We were stuck. Then Ana came by and helped us", step=0.6, gap_after={6: 1.2})
    lines = resegment(words)
    assert [line.text for line in lines] == ["We were stuck.", "Then Ana came by", "and helped us"]
    assert lines[1].start == pytest.approx(words[3].start) and lines[1].end == pytest.approx(words[6].end)


def test_a_sentence_without_its_full_stop_starts_a_line_where_the_voice_detector_heard_a_pause():
    # The words run on with no gap (Whisper stretched "up" over the pause) and no full stop.
    words = timed("the expert was two floors up Since then we keep every answer in one place", step=0.5)
    resumed = words[6].start + 0.1  # the detector heard speech start again just before "Since"
    speech = [(0.0, words[5].end - 0.2), (resumed, words[-1].end)]
    lines = resegment(words, speech=speech)
    assert [line.text for line in lines] == [
        "the expert was two floors up",
        "Since then we keep every answer in one place",
    ]
    # No pause heard, or a pause before a word that starts no sentence: one line, as before.
    assert len(resegment(words)) == 1
    lowered = [*words[:6], Word(words[6].start, words[6].end, " since", 0.9), *words[7:]]
    assert len(resegment(lowered, speech=speech)) == 1
    pronoun = [*words[:6], Word(words[6].start, words[6].end, " I", 0.9), *words[7:]]
    assert len(resegment(pronoun, speech=speech)) == 1


def test_no_line_runs_past_the_limit_and_every_word_is_kept():
    words = timed(" ".join(f"word{index}," if index % 7 == 6 else f"word{index}" for index in range(120)))
    lines = resegment(words)
    assert max(line.end - line.start for line in lines) <= MAX_SEGMENT_SECONDS
    assert sum(len(line.words) for line in lines) == 120
    assert all(
        line.text.split()[-1].endswith(",") for line in lines[:-1]
    )  # cut after a comma when there is one


def test_a_loop_is_text_repeating_itself_close_together():
    looped = timed("the expert was two floors up " * 3)
    assert repeats_itself(looped)
    assert not repeats_itself(timed("the expert was two floors up and nobody knew it until Ana asked"))
    far_apart = timed("the expert was two floors up") + timed("the expert was two floors up", start=80.0)
    assert not repeats_itself(far_apart)


def test_near_misses_of_full_names_are_respelled_and_marked():
    words = timed("I asked Lena Fisher and Mark Burg.")
    fixed = respell(words, ["Lena Fischer", "Jonas Berg"])
    assert "".join(word.text for word in fixed).strip() == "I asked Lena Fischer and Mark Burg."
    assert [word.text.strip() for word in fixed if word.vocabulary] == ["Lena", "Fischer"]
    untouched = respell(timed("I asked Lena Fischer."), ["Lena Fischer"])
    assert not any(word.vocabulary for word in untouched)


def test_words_of_prompted_names_are_marked_as_spelled_from_the_vocabulary():
    words = timed("Then Marcus Adeyemi showed us")
    mark_vocabulary_words(words, Vocabulary(terms=("Marcus Adeyemi",), names=("Marcus Adeyemi",)))
    assert [word.text.strip() for word in words if word.vocabulary] == ["Marcus", "Adeyemi"]


@pytest.mark.django_db
def test_the_bias_list_puts_the_tellers_circle_first_and_keeps_to_the_budget():
    teller = PersonFactory(name="Dana Reyes")
    colleague = PersonFactory(name="Kofi Mensah")
    stranger = PersonFactory(name="Zed Stranger")
    theme = ThemeFactory(name="Corrosion")
    StoryPageFactory(teller=teller, people=[colleague], themes=[theme])
    StoryPageFactory(teller=stranger, title="Another story")
    vocabulary = vocabulary_for(teller)
    assert vocabulary.terms[:3] == ("Dana Reyes", "Kofi Mensah", "Corrosion")
    assert "Zed Stranger" in vocabulary.terms
    assert set(vocabulary.names) >= {"Dana Reyes", "Kofi Mensah", "Zed Stranger"}
    small = vocabulary_for(teller, count_tokens=lambda text: len(text.split(", ")), budget=2)
    assert small.terms == ("Dana Reyes", "Kofi Mensah")


def test_one_voice_in_stereo_is_no_interview_and_two_voices_are():
    rate = 16_000
    rng = np.random.default_rng(3)
    voice = rng.normal(0, 0.1, 6 * rate).astype(np.float32)
    assert not is_two_speaker_interview(np.stack([voice, voice * 0.9]))
    left, right = np.zeros_like(voice), np.zeros_like(voice)
    left[: 3 * rate], right[3 * rate :] = voice[: 3 * rate], voice[3 * rate :]
    assert is_two_speaker_interview(np.stack([left, right]))
    assert not is_two_speaker_interview(np.stack([left, np.zeros_like(left)]))


def test_a_speakers_voice_leaking_into_the_other_microphone_is_silenced():
    rate = 16_000
    rng = np.random.default_rng(4)
    left_voice = np.zeros(6 * rate, dtype=np.float32)
    left_voice[: 3 * rate] = rng.normal(0, 0.1, 3 * rate)
    right_voice = np.zeros_like(left_voice)
    right_voice[3 * rate :] = rng.normal(0, 0.1, 3 * rate)
    stereo = np.stack([left_voice + 0.05 * right_voice, right_voice + 0.05 * left_voice])
    left, right = speaker_channels(stereo)
    assert np.abs(right[int(0.5 * rate) : int(2.5 * rate)]).max() == 0  # only the left speaker talks here
    assert np.abs(left[int(3.5 * rate) : int(5.5 * rate)]).max() == 0
    assert np.abs(left[: int(2.5 * rate)]).max() > 0.1


def test_speakers_are_named_as_given_or_teller_and_interviewer():
    assert speaker_labels(["", ""]) == ("Teller", "Interviewer")
    assert speaker_labels(["  Ana   Ruiz ", "Ben"]) == ("Ana Ruiz", "Ben")
    assert speaker_labels([]) == ("Teller", "Interviewer")


def test_stored_segments_of_the_first_round_still_read():
    old = Segment.from_json([1.0, 2.5, "Hello there"])
    assert (old.start, old.end, old.text, old.speaker, old.words) == (1.0, 2.5, "Hello there", "", [])
    new = Segment(1.0, 2.5, "Hello", "Ana", [Word(1.0, 1.4, " Hello", 0.31, True)])
    assert Segment.from_json(new.as_json()) == new
    assert HeardWord.from_json([1, 2, " a"]).probability == 1.0


def test_speakers_lead_their_lines_in_every_transcript_format():
    lines = [
        Segment(0.0, 2.0, "Where did you look?", "Ben & Co <staff>"),
        Segment(2.0, 4.0, "Two floors up.", "Ana"),
    ]
    vtt = transcript_as_vtt(lines)
    assert "<v Ben &amp; Co &lt;staff&gt;>Where did you look?</v>" in vtt
    assert "<v Ana>Two floors up.</v>" in vtt
    assert "Ana: Two floors up." in transcript_as_srt(lines)
    assert "[0:02] Ana: Two floors up." in transcript_as_text(lines)


def test_speech_left_without_words_is_found_and_joined_into_stretches():
    words = timed("one two three")  # 0.0 to 1.1 s
    speech = [(0.0, 1.2), (3.0, 5.0), (5.5, 8.0), (20.0, 22.0)]
    assert unheard_spans(words, speech) == [(3.0, 8.0), (20.0, 22.0)]
    assert unheard_spans(words, [(0.0, 1.2)]) == []
    # What counts is the speech without words, not the pauses the stretches join across.
    assert unheard_seconds(words, speech) == pytest.approx(2.0 + 2.5 + 2.0)
    assert unheard_seconds(words, [(0.0, 1.2)]) == 0


def test_interview_channels_are_the_gated_channels_of_an_interview_and_none_otherwise():
    rate = 16_000
    rng = np.random.default_rng(3)
    t = np.arange(4 * rate) / rate
    left = np.where(t < 2, 0.3 * np.sin(2 * np.pi * 220 * t), 0.003 * rng.standard_normal(len(t)))
    right = np.where(t >= 2, 0.3 * np.sin(2 * np.pi * 330 * t), 0.003 * rng.standard_normal(len(t)))
    stereo = np.stack([left, right]).astype(np.float32)
    channels = interview_channels(stereo)
    assert channels is not None
    for got, expected in zip(channels, speaker_channels(stereo), strict=True):
        assert np.array_equal(got, expected)
    assert interview_channels(np.stack([left, left]).astype(np.float32)) is None
    assert interview_channels(left.astype(np.float32)) is None


def test_a_word_leaking_through_the_other_microphone_is_no_line_of_its_own():
    teller = Segment(5.9, 11.2, "I stopped writing long emails and posted every question.", "Teller")
    echo = Segment(7.5, 7.9, "and", "Interviewer")
    reply = Segment(7.6, 8.0, "Right.", "Interviewer")  # a word of their own, said over the teller
    own_words = Segment(9.6, 10.4, "emails, and", "Teller")  # the same speaker: not an echo
    lines = without_echoes([teller, echo, reply, own_words])
    assert lines == [teller, reply, own_words]
