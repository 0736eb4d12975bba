"""A synthetic camera: the test pattern, encoded by libx264 like the Pi encodes H.264.

Real time by default (frames on CLOCK_MONOTONIC, one every 1/fps s); give it a
``VirtualClock`` to run as fast as the machine can, with virtual timestamps
``start_us + n * 1e6 / fps``. Frame ``n`` carries ``n`` in its counter band and is a white
flash frame when ``schedule.is_flash_frame(n, fps)``.
"""

from __future__ import annotations

from device.hardware.synthetic.camera_base import FrameSource, PacedCamera
from device.hardware.synthetic.encoder import H264Encoder
from device.hardware.synthetic.pacing import RealTimeClock, SyntheticClock
from device.hardware.synthetic.pattern import PatternRenderer
from device.hardware.synthetic.schedule import is_flash_frame
from device.media.packets import EncodedFrame

BITS_PER_PIXEL = 0.13  # about 8 Mbit/s at 1080p30, like the Pi's default


class SyntheticCamera(PacedCamera):
    """Implements ``Camera`` with a moving, numbered test pattern."""

    def __init__(
        self,
        width: int = 640,
        height: int = 360,
        fps: int = 30,
        *,
        bitrate: int | None = None,
        clock: SyntheticClock | None = None,
    ) -> None:
        super().__init__(width, height, fps, clock or RealTimeClock())
        PatternRenderer(width, height, fps)  # reject a bad size now, not on the thread
        self.bitrate = bitrate or round(width * height * fps * BITS_PER_PIXEL)

    def _frame_source(self) -> FrameSource:
        renderer = PatternRenderer(self.width, self.height, self.fps)
        encoder = H264Encoder(self.width, self.height, self.fps, self.bitrate)

        def frame(n: int, timestamp_us: int) -> EncodedFrame:
            picture = renderer.render(n, flash=is_flash_frame(n, self.fps))
            return encoder.encode(picture, timestamp_us)

        return frame
