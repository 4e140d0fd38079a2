"""Clips are judged by their content (PyAV), never by their name: what is accepted, and every refusal."""

import pytest

from capture.media_probe import ClipRefused, decode_audio, extract_poster_frame, probe_clip
from tests.capture.fixtures.speech import ffmpeg, speak, video_with_speech, video_without_sound


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("wav", "audio/wav"),
        ("mp3", "audio/mpeg"),
        ("m4a", "audio/mp4"),
        ("aac", "audio/aac"),
        ("ogg", "audio/ogg"),
        ("webm", "audio/webm"),
        ("flac", "audio/flac"),
    ],
)
def test_every_accepted_audio_format_is_recognised_with_its_duration(tmp_path, fmt, content_type):
    clip = speak(tmp_path, "The quick brown fox.", fmt=fmt)
    result = probe_clip(clip)
    assert result.media_kind == "audio"
    assert result.content_type == content_type
    assert 0.8 < result.duration < 3.0


@pytest.mark.parametrize(("fmt", "content_type"), [("mp4", "video/mp4"), ("webm", "video/webm")])
def test_video_with_a_sound_track_is_accepted_as_video(tmp_path, fmt, content_type):
    result = probe_clip(video_with_speech(tmp_path, "Hello there.", fmt=fmt))
    assert result.media_kind == "video"
    assert result.content_type == content_type


def test_quicktime_mov_is_accepted(tmp_path):
    mov = tmp_path / "clip.mov"
    ffmpeg("-i", str(video_with_speech(tmp_path, "Hello there.")), "-c", "copy", str(mov))
    result = probe_clip(mov)
    assert (result.media_kind, result.content_type, result.extension) == ("video", "video/quicktime", "mov")


def test_extension_is_ignored_audio_named_txt_is_still_audio(tmp_path):
    disguised = speak(tmp_path, "Hello.", fmt="ogg").rename(tmp_path / "notes.txt")
    assert probe_clip(disguised).content_type == "audio/ogg"


def test_empty_file_is_refused(tmp_path):
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    with pytest.raises(ClipRefused, match="empty"):
        probe_clip(empty)


def test_text_renamed_to_mp3_is_refused(tmp_path):
    fake = tmp_path / "song.mp3"
    fake.write_text("This is not a recording, just some words in a text file.\n" * 20)
    with pytest.raises(ClipRefused, match="text file") as refusal:
        probe_clip(fake)
    assert refusal.value.status == 415


def test_random_bytes_named_mp3_are_refused_as_unreadable(tmp_path):
    fake = tmp_path / "noise.mp3"
    fake.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(ClipRefused, match="could not be read") as refusal:
        probe_clip(fake)
    assert refusal.value.status == 400


def test_truncated_mp4_is_refused(tmp_path):
    video = video_with_speech(tmp_path)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    with pytest.raises(ClipRefused):
        probe_clip(cut)


def test_mp3_cut_short_is_refused_as_truncated(tmp_path):
    mp3 = speak(tmp_path, fmt="mp3")
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(mp3.read_bytes()[:3000])
    with pytest.raises(ClipRefused, match="cut short"):
        probe_clip(cut)


def test_video_without_sound_track_is_refused(tmp_path):
    with pytest.raises(ClipRefused, match="no sound track") as refusal:
        probe_clip(video_without_sound(tmp_path))
    assert refusal.value.status == 422


def test_clip_longer_than_the_limit_is_refused(tmp_path, settings):
    settings.MAX_CLIP_SECONDS = 2
    with pytest.raises(ClipRefused, match="at most 2 s"):
        probe_clip(speak(tmp_path))


def test_clip_bigger_than_the_limit_is_refused(tmp_path, settings):
    settings.MAX_UPLOAD_MB = 1
    big = tmp_path / "big.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=40", str(big))
    with pytest.raises(ClipRefused, match="at most 1 MB") as refusal:
        probe_clip(big)
    assert refusal.value.status == 413


@pytest.mark.parametrize("name", ["list.m3u8", "list.mp3"])
def test_hls_playlist_pointing_at_a_local_file_is_refused(tmp_path, name):
    speak(tmp_path, name="secret", fmt="mp3")
    playlist = tmp_path / name
    playlist.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:6.0,\nsecret.mp3\n#EXT-X-ENDLIST\n")
    with pytest.raises(ClipRefused, match="playlist") as refusal:
        probe_clip(playlist)
    assert refusal.value.status == 415


def test_ffconcat_list_pointing_at_a_local_file_is_refused(tmp_path):
    speak(tmp_path, name="secret")
    listing = tmp_path / "concat.wav"
    listing.write_text("ffconcat version 1.0\nfile 'secret.wav'\n")
    with pytest.raises(ClipRefused, match="playlist"):
        probe_clip(listing)


def test_playlist_hidden_behind_leading_blank_lines_is_still_refused(tmp_path):
    speak(tmp_path, name="secret")
    listing = tmp_path / "sneaky.ogg"
    listing.write_text("\n\n  ffconcat version 1.0\nfile 'secret.wav'\n")
    with pytest.raises(ClipRefused):
        probe_clip(listing)


def test_decoded_audio_is_16khz_mono_of_the_clip_length(tmp_path):
    clip = speak(tmp_path, "One two three four five.", fmt="ogg")
    samples = decode_audio(clip)
    assert abs(len(samples) / 16_000 - probe_clip(clip).duration) < 0.1
    assert samples.dtype.name == "float32" and 0.05 < abs(samples).max() <= 1.0


def test_poster_frame_is_a_jpeg_of_the_video(tmp_path):
    jpeg = extract_poster_frame(video_with_speech(tmp_path, "Hello there."))
    assert jpeg[:3] == b"\xff\xd8\xff"
    assert extract_poster_frame(speak(tmp_path, "Hello.")) is None
