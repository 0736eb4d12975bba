"""A camera that replays pre-encoded H.264 access units as fast as possible (benchmarks).

The access units are made once, in memory, by the synthetic encoder; replay then costs no
encoding, so a benchmark measures only the muxer, the encryption and the disk.
"""

from __future__ import annotations

from collections.abc import Sequence

from device.hardware.synthetic.camera_base import FrameSource, PacedCamera
from device.hardware.synthetic.encoder import H264Encoder
from device.hardware.synthetic.pacing import SyntheticClock, VirtualClock
from device.hardware.synthetic.pattern import PatternRenderer
from device.hardware.synthetic.schedule import is_flash_frame
from device.media.packets import EncodedFrame


def encode_pattern(
    width: int = 1920, height: int = 1080, fps: int = 30, bitrate: int = 8_000_000, seconds: int = 2
) -> list[EncodedFrame]:
    """``seconds`` whole GOPs of the synthetic pattern (timestamps are placeholders)."""
    renderer = PatternRenderer(width, height, fps)
    encoder = H264Encoder(width, height, fps, bitrate)
    return [
        encoder.encode(renderer.render(n, flash=is_flash_frame(n, fps)), 0)
        for n in range(seconds * fps)
    ]


class ReplayCamera(PacedCamera):
    """Implements ``Camera`` by looping ``units`` (which must start with a keyframe)."""

    def __init__(
        self,
        units: Sequence[EncodedFrame],
        *,
        width: int,
        height: int,
        fps: int,
        clock: SyntheticClock | None = None,
    ) -> None:
        if not units or not units[0].keyframe:
            raise ValueError("replay needs access units that start with a keyframe")
        super().__init__(width, height, fps, clock or VirtualClock())
        self._units = list(units)

    @classmethod
    def from_synthetic(
        cls, width: int = 1920, height: int = 1080, fps: int = 30, bitrate: int = 8_000_000
    ) -> ReplayCamera:
        return cls(encode_pattern(width, height, fps, bitrate), width=width, height=height, fps=fps)

    def _frame_source(self) -> FrameSource:
        units = self._units

        def frame(n: int, timestamp_us: int) -> EncodedFrame:
            unit = units[n % len(units)]
            return EncodedFrame(unit.data, unit.keyframe, timestamp_us)

        return frame
