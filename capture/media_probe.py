"""Is this upload a plain audio or video file we can transcribe? Decided from its content, never its name.

FFmpeg will happily follow an HLS playlist or a concat list to other files and network addresses,
so every file is opened with a demuxer allow-list and the local-file protocol only. The same
restricted opening is used again to decode audio for Whisper and to take a video's poster frame.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from django.conf import settings

# Demuxers for plain local media; anything else (hls, concat, image2, tee, data…) is refused.
ALLOWED_DEMUXERS = {
    "wav": "wav",
    "mp3": "mp3",
    "mov,mp4,m4a,3gp,3g2,mj2": "mp4",
    "aac": "aac",
    "ogg": "ogg",
    "matroska,webm": "webm",
    "flac": "flac",
}
FORMAT_WHITELIST = "wav,mp3,mov,mp4,m4a,3gp,3g2,mj2,aac,ogg,matroska,webm,flac"
SAFE_OPEN_OPTIONS = {"protocol_whitelist": "file", "format_whitelist": FORMAT_WHITELIST}
# FFmpeg's own ceiling on one decoded picture (an int): beyond it a decoder refuses, not allocates.
FFMPEG_MAX_PIXELS = 2**31 - 1

# Playlists and lists of files are text; no audio container starts like this.
TEXT_SIGNATURES = (b"#EXTM3U", b"#EXT", b"ffconcat", b"[playlist]", b"<?xml", b"<asx", b"<smil", b"file ")

AUDIO_CONTENT_TYPES = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "mp4": "audio/mp4",
    "aac": "audio/aac",
    "ogg": "audio/ogg",
    "webm": "audio/webm",
    "flac": "audio/flac",
}
VIDEO_CONTENT_TYPES = {"mp4": "video/mp4", "webm": "video/webm", "ogg": "video/ogg"}
QUICKTIME_BRANDS = (b"qt  ",)

WHISPER_SAMPLE_RATE = 16_000
# Decoders and resamplers add a few milliseconds of padding; a clip this close to the limit is fine.
DECODE_GRACE_SECONDS = 1.0
# The longest side of a poster frame; the picture is scaled down while it is converted.
POSTER_MAX_SIDE = 1280

logger = logging.getLogger(__name__)


class ClipRefused(Exception):
    """The upload is not a clip we accept; `message` is shown to the person, `status` is the HTTP code."""

    def __init__(self, message: str, status: int = 400, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


class AudioTooLong(ClipRefused):
    """Decoding passed the allowed length: the file's timestamps claimed less sound than it holds."""

    def __init__(self, max_seconds: float):
        super().__init__(
            "Once decoded, the recording lasts longer than its file claims and passes the limit of "
            f"{format_duration(settings.MAX_CLIP_SECONDS)} for one telling, so transcription stopped there. "
            "The clip is kept: please trim it or split it into shorter clips and send it again.",
            422,
        )
        self.max_seconds = max_seconds


class PosterSkipped(Exception):
    """No poster frame could be taken safely from this video; the message says why."""


@dataclass(frozen=True)
class ProbeResult:
    container: str  # our short name: wav, mp3, mp4, aac, ogg, webm, flac
    duration: float  # seconds of audio, measured from the packets
    has_video: bool
    audio_codec: str
    content_type: str
    extension: str

    @property
    def media_kind(self) -> str:
        return "video" if self.has_video else "audio"


def max_picture_pixels() -> int:
    return max(1, min(int(settings.MAX_IMAGE_PIXELS), FFMPEG_MAX_PIXELS))


def open_media(path: str | Path) -> av.container.InputContainer:
    """Open a local media file with the demuxer allow-list and no protocol but `file`.

    Opening already decodes a few video frames to learn their format, so the decoders are held to
    MAX_IMAGE_PIXELS from the start: a tiny file that declares a gigantic picture cannot make
    FFmpeg allocate it.
    """
    options = {**SAFE_OPEN_OPTIONS, "max_pixels": str(max_picture_pixels())}
    return av.open(str(path), mode="r", options=options, metadata_errors="ignore")


def looks_like_playlist(head: bytes) -> bool:
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return any(stripped[: len(sig)].lower() == sig.lower() for sig in TEXT_SIGNATURES)


def looks_like_plain_text(head: bytes) -> bool:
    """Printable text from the first byte on: no audio container looks like this."""
    if not head:
        return False
    printable = sum(1 for byte in head if 32 <= byte < 127 or byte in (9, 10, 13))
    return printable / len(head) > 0.95


def _is_real_video(stream) -> bool:
    """A video stream that is not just cover art attached to an audio file."""
    try:
        attached = bool(stream.disposition & av.stream.Disposition.attached_pic)
    except AttributeError:  # older PyAV: no Disposition flags
        attached = False
    return not attached


def _measured_audio_seconds(container, stream) -> float:
    """Duration from the packets themselves, so a header cannot understate a long clip."""
    end = 0.0
    for packet in container.demux(stream):
        if packet.pts is None:
            continue
        packet_end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
        end = max(end, packet_end)
    start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    return max(end - max(start, 0.0), 0.0)


def _declared_audio_seconds(container, stream, has_video: bool) -> float | None:
    """What the file's header claims, used only to spot a file cut short."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration and not has_video:
        return container.duration / av.time_base
    return None


def _decodes(path: Path) -> bool:
    """Whether the first audio frame decodes: a codec we cannot read is no use to Whisper."""
    with open_media(path) as container:
        for _frame in container.decode(audio=0):
            return True
    return False


def probe_clip(
    path: str | Path, *, max_seconds: float | None = None, max_bytes: int | None = None
) -> ProbeResult:
    """Check a stored upload and describe it, or raise ClipRefused with a message for the person."""
    path = Path(path)
    max_seconds = settings.MAX_CLIP_SECONDS if max_seconds is None else max_seconds
    max_bytes = settings.MAX_UPLOAD_MB * 1024 * 1024 if max_bytes is None else max_bytes
    size = path.stat().st_size
    if size == 0:
        raise ClipRefused("The file is empty (0 bytes). Please record or choose the clip again.")
    if size > max_bytes:
        raise ClipRefused(
            f"The file is {size / 1_048_576:.1f} MB; clips may be at most {max_bytes // 1_048_576} MB.", 413
        )
    with path.open("rb") as handle:
        head = handle.read(512)
    if looks_like_playlist(head):
        raise ClipRefused(
            "This is a playlist or text file, not a recording. Please upload the audio or video file itself.",
            415,
        )
    if looks_like_plain_text(head):
        raise ClipRefused(
            "This is a text file, not a recording. Please upload the audio or video file itself.", 415
        )
    try:
        with open_media(path) as container:
            short_name = ALLOWED_DEMUXERS.get(container.format.name)
            if short_name is None:
                raise ClipRefused(f"Files of type “{container.format.name}” are not accepted.", 415)
            audio_streams = list(container.streams.audio)
            if not audio_streams:
                raise ClipRefused(
                    "This file has no sound track. Please upload a clip in which you can be heard.", 422
                )
            audio = audio_streams[0]
            has_video = any(_is_real_video(stream) for stream in container.streams.video)
            declared = _declared_audio_seconds(container, audio, has_video)
            audio_codec = audio.codec_context.name
            measured = _measured_audio_seconds(container, audio)
        decodable = _decodes(path)
    except ClipRefused:
        raise
    except (av.FFmpegError, EOFError, OSError, ValueError, IndexError) as error:
        logger.info("Refused an unreadable upload %s: %s", path.name, error)
        raise ClipRefused(
            "This file could not be read as audio or video (it may be damaged, cut short, or not a "
            "recording at all). Accepted: WAV, MP3, M4A/AAC, OGG/Opus, WebM, FLAC, MP4 and MOV.",
            400,
        )
    if not decodable or measured <= 0.05:
        raise ClipRefused(
            "This file contains no audible recording (its sound track is empty or unreadable).", 422
        )
    if declared and declared > 2 and measured < declared * 0.5:
        raise ClipRefused(
            f"This file looks cut short: it says it lasts {declared:.0f} s but holds only {measured:.1f} s. "
            "Please upload the complete file.",
            400,
        )
    if measured > max_seconds:
        raise ClipRefused(
            f"The clip lasts {format_duration(measured)}; clips may be at most {format_duration(max_seconds)}. "
            "Please trim it or split it into shorter clips.",
            422,
        )
    return ProbeResult(
        container=short_name,
        duration=round(measured, 3),
        has_video=has_video,
        audio_codec=audio_codec,
        content_type=_content_type(short_name, has_video, head),
        extension=_extension(short_name, has_video, head),
    )


def _content_type(short_name: str, has_video: bool, head: bytes) -> str:
    if has_video:
        if short_name == "mp4" and head[8:12] in QUICKTIME_BRANDS:
            return "video/quicktime"
        return VIDEO_CONTENT_TYPES.get(short_name, "video/mp4")
    return AUDIO_CONTENT_TYPES[short_name]


def _extension(short_name: str, has_video: bool, head: bytes) -> str:
    if short_name == "mp4":
        if has_video:
            return "mov" if head[8:12] in QUICKTIME_BRANDS else "mp4"
        return "m4a"
    return {"ogg": "ogg", "webm": "webm"}.get(short_name, short_name)


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def decode_audio(
    path: str | Path, *, max_seconds: float | None = None, keep_channels: bool = False
) -> np.ndarray:
    """The clip's first audio track as 16 kHz float32 samples for Whisper: mono, or (2, n) when
    `keep_channels` is asked for and the track has two channels or more (an interview recorded with
    one microphone per person).

    The length limit (MAX_CLIP_SECONDS unless given) holds on the samples decoded, not on the
    timestamps the probe read: decoding stops with AudioTooLong as soon as it passes the limit,
    counted before resampling, so neither crafted timestamps nor a tiny sample rate can grow the
    audio past it.
    """
    max_seconds = settings.MAX_CLIP_SECONDS if max_seconds is None else max_seconds
    chunks: list[np.ndarray] = []
    decoded_seconds = 0.0
    with open_media(path) as container:
        stream = container.streams.audio[0]
        stereo = keep_channels and (stream.codec_context.channels or 1) >= 2
        layout = "stereo" if stereo else "mono"
        resampler = av.AudioResampler(format="s16", layout=layout, rate=WHISPER_SAMPLE_RATE)
        for frame in container.decode(stream):
            if not frame.sample_rate or frame.sample_rate <= 0:
                raise ClipRefused(
                    "This clip's sound track could not be decoded (it has no sample rate).", 422
                )
            decoded_seconds += frame.samples / frame.sample_rate
            if decoded_seconds > max_seconds + DECODE_GRACE_SECONDS:
                raise AudioTooLong(max_seconds)
            for resampled in resampler.resample(frame):
                chunks.append(resampled.to_ndarray().reshape(-1))
        for resampled in resampler.resample(None):
            chunks.append(resampled.to_ndarray().reshape(-1))
    if not chunks:
        return np.zeros((2, 0) if stereo else 0, dtype=np.float32)
    samples = np.concatenate(chunks)
    del chunks
    audio = samples.astype(np.float32)
    del samples
    audio /= 32768.0
    if stereo:  # packed s16: left and right samples alternate
        return np.ascontiguousarray(audio.reshape(-1, 2).T)
    return audio


def _too_many_pixels(width: int, height: int, max_pixels: int) -> PosterSkipped:
    return PosterSkipped(
        f"the video's pictures are {width} × {height} pixels, more than the {max_pixels:,} pixels "
        "allowed (MAX_IMAGE_PIXELS), so no poster frame was taken"
    )


def extract_poster_frame(path: str | Path, *, at_fraction: float = 0.25) -> bytes | None:
    """A JPEG of one frame about a quarter into the video (past any black lead-in), or None without video.

    Raises PosterSkipped when the pictures are larger than MAX_IMAGE_PIXELS: the size is checked
    before decoding (and FFmpeg's decoder is held to it), and the frame is scaled down while it is
    converted, so no full-size picture is ever made.
    """
    max_pixels = max_picture_pixels()
    with open_media(path) as container:
        streams = [stream for stream in container.streams.video if _is_real_video(stream)]
        if not streams:
            return None
        stream = streams[0]
        width, height = stream.codec_context.width or 0, stream.codec_context.height or 0
        if width * height > max_pixels:
            raise _too_many_pixels(width, height, max_pixels)
        if container.duration:
            target = container.duration / av.time_base * at_fraction
            try:
                container.seek(int(target / stream.time_base), stream=stream, backward=True)
            except av.FFmpegError:
                container.seek(0)
        best = None
        try:
            for frame in container.decode(stream):
                best = frame
                break
        except av.FFmpegError as error:
            raise PosterSkipped(f"the video's picture could not be decoded within the limits ({error})")
        if best is None:
            return None
        if best.width * best.height > max_pixels:
            raise _too_many_pixels(best.width, best.height, max_pixels)
        scale = min(1.0, POSTER_MAX_SIDE / max(best.width, best.height, 1))
        image = best.to_image(
            width=max(1, round(best.width * scale)), height=max(1, round(best.height * scale))
        )
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def write_speech_audio(
    samples: np.ndarray, path: str | Path, *, sample_rate: int = WHISPER_SAMPLE_RATE
) -> None:
    """Encode mono float32 samples as AAC in an .m4a file (used to join a guided telling's clips)."""
    pcm = np.clip(samples, -1.0, 1.0)
    pcm = (pcm * 32767).astype(np.int16).reshape(1, -1)
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("aac", rate=sample_rate)
        stream.layout = "mono"
        stream.bit_rate = 64_000
        frame_size = 1024
        for offset in range(0, pcm.shape[1], frame_size):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(pcm[:, offset : offset + frame_size]), format="s16", layout="mono"
            )
            frame.sample_rate = sample_rate
            frame.pts = offset
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
