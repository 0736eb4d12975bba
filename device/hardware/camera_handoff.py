"""The Pi camera's logic that needs no picamera2: settings, frame hand-off, clocks, JPEG.

Kept apart from ``device.hardware.picamera`` so it can be tested on any machine;
picamera2 (and libcamera under it) only exists on Raspberry Pi OS.

Clocks. picamera2 gives its encoder outputs ``timestamp`` in µs *relative to the first
frame it encoded* (``Encoder._timestamp`` subtracts ``encoder.firsttimestamp``). The
absolute value is that first frame's ``SensorTimestamp`` (ns, divided to µs), which
libcamera documents as CLOCK_BOOTTIME; the Pi's camera drivers stamp buffers from the
kernel's monotonic time, and the two only differ by time spent suspended, which a Pi
never is. So: monotonic µs = firsttimestamp + timestamp − (BOOTTIME − MONOTONIC), with
the offset measured when encoding starts. If the result is implausible (after the frame
arrived, or more than 2 s before it) the clock base is not what we think: the first
frame is then anchored at its arrival instead, and the rest keep the sensor's spacing.
"""

from __future__ import annotations

import importlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from device.errors import CameraError
from device.hardware.base import FrameSink
from device.hardware.monotonic import monotonic_us
from device.media.packets import EncodedFrame

log = logging.getLogger(__name__)

_MAX_PIPELINE_US = 2_000_000  # exposure → ISP → encoder → us: far less than this
_FUTURE_SLACK_US = 5_000


@dataclass(frozen=True, slots=True)
class VideoSettings:
    """What the camera is asked for, checked before any hardware is touched."""

    width: int = 1920
    height: int = 1080
    fps: int = 30
    bitrate: int = 8_000_000
    preview_size: tuple[int, int] = (640, 360)

    def __post_init__(self) -> None:
        pw, ph = self.preview_size
        problems = []
        if not (2 <= self.width <= 1920 and 2 <= self.height <= 1088):
            problems.append(f"video size {self.width}x{self.height} is beyond 1920x1080")
        if not 1 <= self.fps <= 60:
            problems.append(f"{self.fps} frames per second is outside 1–60")
        if not 100_000 <= self.bitrate <= 25_000_000:
            problems.append(f"bitrate {self.bitrate} is outside 100 kbit/s–25 Mbit/s")
        if not (0 < pw <= self.width and 0 < ph <= self.height):
            problems.append(f"preview {pw}x{ph} must fit inside the video size")
        if any(v % 2 for v in (self.width, self.height, pw, ph)):
            problems.append("sizes must be even (YUV 4:2:0 halves them for colour)")
        if problems:
            raise CameraError("; ".join(problems), hint="Fix the camera settings and restart.")

    @property
    def frame_us(self) -> int:
        return round(1_000_000 / self.fps)

    def configuration(self) -> dict[str, Any]:
        """Keyword arguments for ``Picamera2.create_video_configuration``: the main stream
        feeds the H.264 encoder, the small lores stream feeds the preview."""
        return {
            "main": {"size": (self.width, self.height), "format": "YUV420"},
            "lores": {"size": self.preview_size, "format": "YUV420"},
            "controls": {"FrameDurationLimits": (self.frame_us, self.frame_us)},
            "encode": "main",
            "display": None,  # no preview window on a headless kit
        }

    def encoder_arguments(self) -> dict[str, Any]:
        """``H264Encoder`` arguments: 1 s keyframes, SPS/PPS repeated on each."""
        return {"bitrate": self.bitrate, "repeat": True, "iperiod": self.fps}


def boottime_minus_monotonic_us() -> int:
    """CLOCK_BOOTTIME − CLOCK_MONOTONIC now, in µs (0 unless the machine has slept)."""
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    boot = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    return (boot - (before + after) // 2) // 1000


class FrameHandoff:
    """What our picamera2 ``Output`` does with each encoded frame, on the encoder's thread:
    wait for a keyframe, put the time on our clock, give it to the sink, never block."""

    def __init__(
        self,
        *,
        now_us: Callable[[], int] = monotonic_us,
        sensor_offset_us: Callable[[], int] = boottime_minus_monotonic_us,
    ) -> None:
        self._now_us = now_us
        self._sensor_offset_us = sensor_offset_us
        self._lock = threading.Lock()
        self._sink: FrameSink | None = None
        self._first_sensor_us: Callable[[], int | None] = lambda: None
        self._offset_us = 0
        self._base_us: int | None = None
        self._waiting_for_keyframe = True
        self.dropped = 0  # sink's queue was full (since this hand-off was made)
        self.skipped = 0  # frames before the first keyframe

    def start(self, sink: FrameSink, first_sensor_us: Callable[[], int | None]) -> None:
        """Begin a session; ``first_sensor_us`` reads the encoder's ``firsttimestamp``."""
        with self._lock:
            self._sink, self._first_sensor_us = sink, first_sensor_us
            self._offset_us = self._sensor_offset_us()
            self._base_us, self._waiting_for_keyframe = None, True

    def stop(self) -> None:
        """After this returns the sink is not called again (an in-flight call finishes)."""
        with self._lock:
            self._sink = None

    def frame(self, data: Any, keyframe: bool, timestamp: int | None) -> None:
        arrival_us = self._now_us()
        with self._lock:
            if self._sink is None:
                return
            if self._waiting_for_keyframe and not keyframe:
                self.skipped += 1
                return
            self._waiting_for_keyframe = False
            relative = timestamp or 0
            frame = EncodedFrame(bytes(data), keyframe, self._to_monotonic(relative, arrival_us))
            try:
                self._sink(frame)
            except queue.Full:
                self.dropped += 1

    def _to_monotonic(self, relative_us: int, arrival_us: int) -> int:
        if self._base_us is None:
            self._base_us = self._anchor(relative_us, arrival_us)
        return self._base_us + relative_us

    def _anchor(self, relative_us: int, arrival_us: int) -> int:
        first = self._first_sensor_us()
        if first is not None:
            at = first + relative_us - self._offset_us
            if arrival_us - _MAX_PIPELINE_US <= at <= arrival_us + _FUTURE_SLACK_US:
                return first - self._offset_us
            log.warning("camera timestamps are not on the expected clock; using arrival times")
        return arrival_us - relative_us


def yuv420_planes(
    array: npt.NDArray[np.uint8], width: int, height: int
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """Y, U, V views of picamera2's YUV420 array: ``height * 3 / 2`` rows of ``stride``
    bytes, the two chroma planes packed two half-rows per row after the luma."""
    stride = array.shape[1]
    y = array[:height, :width]
    chroma = array[height:].reshape(-1, stride // 2)  # one half-width chroma row per row
    u = chroma[: height // 2, : width // 2]
    v = chroma[height // 2 : height, : width // 2]
    return y, u, v


def yuv420_to_jpeg(array: npt.NDArray[np.uint8], width: int, height: int, quality: int) -> bytes:
    """JPEG from a YUV420 frame without converting to RGB. (The camera's YUV is limited
    range and JPEG's is full, so the preview is a little flat; fine for framing a shot.)

    simplejpeg (a picamera2 dependency, so present wherever the camera works) encodes the
    planes directly and fast; PyAV's MJPEG encoder (a project dependency) is the fallback.
    """
    y, u, v = yuv420_planes(array, width, height)
    try:  # by name: it has no type information, and is absent off the Pi
        simplejpeg = importlib.import_module("simplejpeg")
    except ImportError:
        return _jpeg_with_pyav(y, u, v, quality)
    return bytes(simplejpeg.encode_jpeg_yuv_planes(y, u, v, quality))


def _jpeg_with_pyav(
    y: npt.NDArray[np.uint8], u: npt.NDArray[np.uint8], v: npt.NDArray[np.uint8], quality: int
) -> bytes:
    import av  # imported on use, as this module is imported on the Pi before any frame

    from device.media.jpeg import mjpeg_encoder

    height, width = y.shape
    i420 = np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(height * 3 // 2, width)
    frame = av.VideoFrame.from_ndarray(i420, format="yuvj420p")
    codec = mjpeg_encoder(width, height, max(2, min(31, round(31 - quality * 0.29))))
    packets = [*codec.encode(frame), *codec.encode(None)]
    return b"".join(bytes(p) for p in packets)
