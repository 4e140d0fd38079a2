"""Real faster-whisper on real (synthesised) speech: the words come back, with timestamps."""

import numpy as np
import pytest

from capture.media_probe import decode_audio
from capture.transcribe import load_model, model_status, quiet_cut_points, transcribe_audio
from tests.capture.fixtures.speech import speak

pytestmark = pytest.mark.whisper


def test_spoken_words_come_back_with_timed_segments(tmp_path):
    clip = speak(tmp_path, "The library opens at nine. Tea is served in the garden.", fmt="mp3")
    heard = []
    result = transcribe_audio(decode_audio(clip), on_progress=heard.append)
    text = result.text.lower()
    assert "library" in text and "garden" in text
    assert result.language == "en"
    assert result.segments and all(start < end for start, end, _ in result.segments)
    assert heard and heard[-1] <= result.duration + 0.5


def test_model_is_loaded_once_per_process_and_reused():
    assert load_model() is load_model()


def test_model_status_reports_the_bundled_model_without_loading_it():
    status = model_status()
    assert status["ok"] is True
    assert status["model"]


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
    starts = [start for start, _end, _text in pieces.segments]
    assert starts == sorted(starts)
    assert abs(pieces.segments[-1][1] - whole.segments[-1][1]) < 1.5
