"""Two microphones, two speakers: tell an interview recorded one person per channel from plain stereo.

Mixed to mono, two people speaking at once garble each other (a two-speaker clip came back at
WER 0.59), and who said what is lost. When the left and right channels carry different speech,
each is transcribed on its own and the lines are labelled with the speaker.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME_SECONDS = 0.05
# A frame is "someone speaking" when it is louder than this (dBFS) in either channel.
ACTIVE_DB = -45.0
# A channel "has the floor" in a frame when it is this much louder than the other.
DOMINANT_DB = 10.0
# Two speakers when each channel has the floor in at least this share of the active frames (an
# interviewer may say little: one question in a long answer)…
MIN_SHARE = 0.03
# …and the channels are not one signal (a stereo mix of one voice correlates close to 1).
MAX_CORRELATION = 0.8
# Each speaker's channel is kept where it is within this of the other (both speak, or it speaks);
# where the other channel is far louder, it is silenced, so the other's voice leaking into this
# microphone is not transcribed twice.
CROSSTALK_DB = 6.0
GUARD_FRAMES = 3


def _frame_db(channel: np.ndarray, frame: int) -> np.ndarray:
    usable = len(channel) // frame * frame
    energy = np.square(channel[:usable].reshape(-1, frame), dtype=np.float64).mean(axis=1)
    return 10 * np.log10(energy + 1e-12)


@dataclass(frozen=True)
class ChannelLevels:
    """Each channel's loudness (dBFS) in FRAME_SECONDS frames: measured once, read by both questions."""

    frame: int
    left: np.ndarray
    right: np.ndarray

    @classmethod
    def of(cls, stereo: np.ndarray, sample_rate: int) -> ChannelLevels:
        frame = int(FRAME_SECONDS * sample_rate)
        return cls(frame, _frame_db(stereo[0], frame), _frame_db(stereo[1], frame))


def is_two_speaker_interview(
    stereo: np.ndarray, *, sample_rate: int = 16_000, levels: ChannelLevels | None = None
) -> bool:
    """Whether a (2, n) recording holds one speaker per channel, rather than one mix twice."""
    if stereo.ndim != 2 or stereo.shape[0] != 2 or stereo.shape[1] < sample_rate:
        return False
    left, right = stereo
    if np.std(left) < 1e-4 or np.std(right) < 1e-4:
        return False
    correlation = float(np.corrcoef(left[::4], right[::4])[0, 1])
    if correlation > MAX_CORRELATION:
        return False
    levels = levels or ChannelLevels.of(stereo, sample_rate)
    active = np.maximum(levels.left, levels.right) > ACTIVE_DB
    if active.sum() < 20:
        return False
    difference = (levels.left - levels.right)[active]
    left_share = float(np.mean(difference > DOMINANT_DB))
    right_share = float(np.mean(difference < -DOMINANT_DB))
    return left_share >= MIN_SHARE and right_share >= MIN_SHARE


def speaker_channels(
    stereo: np.ndarray, *, sample_rate: int = 16_000, levels: ChannelLevels | None = None
) -> list[np.ndarray]:
    """Each channel with the other speaker's leaked voice silenced (where the other is far louder)."""
    levels = levels or ChannelLevels.of(stereo, sample_rate)
    channels = []
    for own, other, samples in (
        (levels.left, levels.right, stereo[0]),
        (levels.right, levels.left, stereo[1]),
    ):
        keep = own >= other - CROSSTALK_DB
        # A few frames either side, so the quiet ends of this speaker's words are not clipped.
        keep = np.convolve(keep.astype(float), np.ones(2 * GUARD_FRAMES + 1), mode="same") > 0
        gain = np.repeat(keep.astype(np.float32), levels.frame)
        gated = samples.copy()
        gated[: len(gain)] *= gain
        channels.append(gated)
    return channels


def interview_channels(stereo: np.ndarray, *, sample_rate: int = 16_000) -> list[np.ndarray] | None:
    """The two speakers' channels of an interview (`speaker_channels`), or None for anything else."""
    if stereo.ndim != 2 or stereo.shape[0] != 2:
        return None
    levels = ChannelLevels.of(stereo, sample_rate)
    if not is_two_speaker_interview(stereo, sample_rate=sample_rate, levels=levels):
        return None
    return speaker_channels(stereo, sample_rate=sample_rate, levels=levels)


def mono_mix(audio: np.ndarray) -> np.ndarray:
    """One channel for Whisper: the mean of the channels (a mono clip is returned as it is)."""
    return audio if audio.ndim == 1 else audio.mean(axis=0).astype(np.float32)
