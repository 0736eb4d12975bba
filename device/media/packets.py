"""What a camera and a microphone hand over: an encoded frame and a block of sound.

These are media data, not hardware: the muxer, the recorder and every camera and
microphone adapter (real or synthetic) speak them, so they live below all of those.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    """One H.264 access unit in Annex B form (start codes, SPS/PPS repeated on keyframes)."""

    data: bytes
    keyframe: bool
    timestamp_us: int


@dataclass(frozen=True, slots=True)
class AudioBlock:
    """Mono signed 16-bit PCM; ``timestamp_us`` is the instant of the first sample."""

    samples: npt.NDArray[np.int16]
    timestamp_us: int
