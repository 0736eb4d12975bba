"""The muxer's audio half: place PCM blocks on the sample timeline and encode AAC.

Audio time is counted in samples from the recording's origin, so the file's audio never
drifts from the timestamps the microphone gave. Small jitter (under ``TOLERANCE_S``) is
ignored; a later block that overlaps what was already written is trimmed; a gap is filled
with silence so every AAC frame keeps its place next to the picture.

AAC decoders put ``ENCODER_DELAY`` samples of priming before the first real sample, and an
``empty_moov`` file cannot carry the edit list that would hide them. So the first
``ENCODER_DELAY`` samples of the take are dropped and the next one is encoded at that very
position: the priming fills the gap and every later sample plays exactly on its timestamp.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from device.media.packets import AudioBlock

TOLERANCE_S = 0.010
ENCODER_DELAY = 1024  # FFmpeg's native AAC encoder: initial_padding of one frame


class AacTrack:
    """Turns timestamped int16 blocks into AAC packets for one PyAV audio stream.

    Each placed block goes to the encoder as one s16 frame of whatever length it has:
    PyAV's own reframing (the audio filter graph every encode goes through, since the
    AAC encoder takes exactly 1024 samples a frame) cuts it into AAC frames and converts
    it to float in C, so no sample is copied or converted here in Python.
    """

    def __init__(self, stream: Any, sample_rate: int, origin_us: int) -> None:
        self._stream = stream
        self._rate = sample_rate
        self._origin_us = origin_us
        self._tolerance = round(TOLERANCE_S * sample_rate)
        self._time_base = Fraction(1, sample_rate)
        self._next = 0  # sample position (from origin) of the next sample to place
        self._written = ENCODER_DELAY  # sample position of the next sample to encode
        self._discard = ENCODER_DELAY  # take samples still to drop (see module docstring)
        self.dropped_blocks = 0

    def add(self, block: AudioBlock) -> list[Any]:
        """Place a block on the timeline; return the AAC packets now ready to mux."""
        samples = np.asarray(block.samples, dtype=np.int16).reshape(-1)
        at = round((block.timestamp_us - self._origin_us) * self._rate / 1_000_000)
        if at < self._next - self._tolerance:  # overlaps what we have: keep only the new part
            samples = samples[self._next - at :]
            if samples.size == 0:
                self.dropped_blocks += 1
                return []
        elif at > self._next + self._tolerance:  # a hole: fill it with silence
            samples = np.concatenate([np.zeros(at - self._next, np.int16), samples])
        self._next += samples.size
        cut = min(self._discard, samples.size)
        self._discard -= cut
        return self._encode(samples[cut:]) if samples.size > cut else []

    def flush(self) -> list[Any]:
        """Encode the short last frame held in the reframer and drain the encoder."""
        return list(self._stream.encode(None))

    def _encode(self, pcm: npt.NDArray[np.int16]) -> list[Any]:
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(pcm).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = self._rate
        frame.time_base = self._time_base
        frame.pts = self._written
        self._written += pcm.size
        return list(self._stream.encode(frame))
