"""Real faster-whisper on real (synthesised) speech: the words come back, with timestamps."""

import pytest

from capture.media_probe import decode_audio
from capture.transcribe import load_model, model_status, transcribe_audio
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
