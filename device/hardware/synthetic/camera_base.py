"""What the synthetic and replay cameras share: threads, pacing, preview, fault switches.

``open`` starts a preview thread (a small JPEG a few times a second, like the Pi's lores
stream). ``start_encoding`` starts an encoding thread that paces frames on a
``SyntheticClock`` and hands them to the sink; a sink raising ``queue.Full`` costs one
dropped frame, as with the Pi adapter's bounded hand-off queue.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from device.errors import CameraError
from device.hardware.base import FrameSink
from device.hardware.monotonic import monotonic_us
from device.hardware.synthetic.encoder import JpegEncoder
from device.hardware.synthetic.pacing import Pace, SyntheticClock, hand_over
from device.hardware.synthetic.pattern import PatternRenderer
from device.media.packets import EncodedFrame
from device.threads import BackgroundThread

FrameSource = Callable[[int, int], EncodedFrame]  # (frame number, timestamp µs) -> frame


class PacedCamera:
    """Base class: subclasses say how to make frame ``n`` of a recording."""

    def __init__(self, width: int, height: int, fps: int, clock: SyntheticClock) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.clock = clock
        self.preview_size = (320, 180)
        self.preview_interval_s = 0.25
        self._lock = threading.Lock()
        self._sink: FrameSink | None = None
        self._encoding: BackgroundThread | None = None
        self._preview: BackgroundThread | None = None
        self._jpeg: bytes | None = None
        self._dropped = 0
        self._stall_until_us = 0
        self._failed = False
        self._broken = False
        self.frames_delivered = 0

    def _frame_source(self) -> FrameSource:
        raise NotImplementedError

    # --- Camera protocol ---------------------------------------------------------------

    def open(self) -> None:
        if self._broken:
            raise CameraError("the camera does not answer (simulated permanent failure)")
        self._failed = False
        if self._preview is None:
            stop = threading.Event()
            self._preview = BackgroundThread(
                self._run_preview, stop, name="synthetic-preview", stopping=stop
            )
            self._preview.start()

    def close(self) -> None:
        self.stop_encoding()
        if self._preview is not None:
            self._preview.stop()
            self._preview = None

    def start_encoding(self, sink: FrameSink) -> None:
        self.stop_encoding()
        stop = threading.Event()
        start_us = self.clock.now_us()
        self.clock.anchor_us = start_us  # flash schedule and click schedule start here
        with self._lock:
            self._sink = sink
        source, pace = self._frame_source(), self.clock.join(start_us)
        thread = BackgroundThread(
            self._run_encoding,
            source,
            pace,
            start_us,
            stop,
            name="synthetic-camera",
            stopping=stop,
        )
        self._encoding = thread
        thread.start()

    def stop_encoding(self) -> None:
        with self._lock:
            self._sink = None  # from here on, a late frame is discarded, never delivered
        if self._encoding is not None:
            self._encoding.stop()
            self._encoding = None

    def preview_jpeg(self) -> bytes | None:
        return self._jpeg

    @property
    def dropped_frames(self) -> int:
        return self._dropped

    # --- fault switches for tests ------------------------------------------------------

    def trigger_fake_stall(self, seconds: float) -> None:
        """Deliver no frames for ``seconds`` of wall time (the stalls seen on long runs)."""
        self._stall_until_us = monotonic_us() + round(seconds * 1_000_000)

    def trigger_fake_failure(self, *, permanent: bool = False) -> None:
        """Stop frames and preview until ``close`` + ``open``; ``permanent``: open fails."""
        self._failed = True
        self._broken = permanent

    # --- threads -----------------------------------------------------------------------

    def _run_encoding(
        self, source: FrameSource, pace: Pace, start_us: int, stop: threading.Event
    ) -> None:
        period_us = 1_000_000 / self.fps
        n = 0
        try:
            while not self._failed:
                timestamp = start_us + round(n * period_us)
                if not pace.wait_until(timestamp, stop):
                    return
                if self._stalled(stop):
                    continue
                late = self.clock.now_us() - timestamp
                if late > period_us:  # real time and behind: skip, as a sensor would
                    n += int(late // period_us)
                    continue
                self._deliver(source(n, timestamp), stop)
                n += 1
        finally:
            pace.leave()

    def _stalled(self, stop: threading.Event) -> bool:
        remaining = self._stall_until_us - monotonic_us()
        if remaining > 0:
            stop.wait(min(remaining / 1_000_000, 0.1))
            return True
        return False

    def _deliver(self, frame: EncodedFrame, stop: threading.Event) -> None:
        taken = hand_over(
            frame, lock=self._lock, sink=lambda: self._sink, clock=self.clock, stop=stop
        )
        if taken:
            self.frames_delivered += 1
        elif taken is False:
            self._dropped += 1

    def _run_preview(self, stop: threading.Event) -> None:
        width, height = self.preview_size
        renderer = PatternRenderer(width, height, self.fps)
        encoder = JpegEncoder(width, height)
        opened_us = monotonic_us()
        while not stop.wait(0 if self._jpeg is None else self.preview_interval_s):
            if not self._failed:
                n = (monotonic_us() - opened_us) * self.fps // 1_000_000
                self._jpeg = encoder.encode(renderer.render(n))
