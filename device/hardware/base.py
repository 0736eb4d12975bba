"""The interfaces every camera, microphone and control adapter implements.

The recorder only ever sees these Protocols, so the same pipeline runs with picamera2,
sounddevice and gpiozero on a Pi and with the synthetic sources on a laptop or in CI.

Clock: every timestamp is in microseconds on one clock per recording. Real adapters use
``time.monotonic_ns() // 1000`` (``device.hardware.monotonic``); synthetic sources running
"as fast as possible" use a virtual clock that both camera and microphone derive from the
same start instant, so picture and sound still line up.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from device.media.packets import AudioBlock, EncodedFrame


def peak_dbfs(samples: npt.NDArray[np.int16]) -> float:
    """Peak level in dB relative to full scale; -inf for digital silence (the meter's unit)."""
    peak = int(np.abs(samples.astype(np.int32)).max(initial=0))
    return 20 * math.log10(peak / 32768) if peak else -math.inf


FrameSink = Callable[[EncodedFrame], None]
AudioSink = Callable[[AudioBlock], None]


@runtime_checkable
class Camera(Protocol):
    """A camera that stays warm between recordings and encodes H.264 on demand."""

    width: int
    height: int
    fps: int

    def open(self) -> None:
        """Power up and start the preview stream; cheap to call twice."""

    def close(self) -> None:
        """Stop everything and release the device."""

    def start_encoding(self, sink: FrameSink) -> None:
        """Start H.264 at a 1 s keyframe interval; the first frame given to ``sink`` is a
        keyframe. ``sink`` runs on the camera's thread and must never block."""

    def stop_encoding(self) -> None:
        """Stop encoding; no call to the sink happens after this returns."""

    def preview_jpeg(self) -> bytes | None:
        """The latest low-resolution preview frame as JPEG, or None before the first."""

    @property
    def dropped_frames(self) -> int:
        """Frames lost because the hand-off queue was full, since ``open``."""


@runtime_checkable
class Microphone(Protocol):
    """A 48 kHz mono int16 source delivering timestamped blocks.

    Like the camera it stays warm between recordings: once ``open``, it listens for the
    page's meter (``level_dbfs``) and stores nothing; ``start`` hands the same running
    input over to a recording (no gap, no second open), ``stop`` hands it back."""

    sample_rate: int

    def open(self) -> None:
        """Start listening for the meter only; cheap to call twice. A failed microphone is
        opened afresh. Raises ``MicrophoneError`` when the device cannot be opened."""

    def close(self) -> None:
        """Stop listening (and any take) and release the device."""

    def start(self, sink: AudioSink, start_us: int) -> None:
        """Start a take: blocks go to ``sink``. ``start_us`` anchors sample 0 to the video
        clock when the input is not already running (a running one keeps its clock)."""

    def stop(self) -> None:
        """End the take; no call to the sink happens after this returns. An open
        microphone goes back to listening."""

    @property
    def level_dbfs(self) -> float:
        """Peak level of the most recent block, for the page's meter (-inf when silent)."""

    @property
    def failed(self) -> str | None:
        """Why the microphone stopped (unplugged, silent…), while idle or in a take."""

    @property
    def overflows(self) -> int:
        """Input overflows since ``start``: sound lost before it reached us."""


class LedPattern(enum.Enum):
    """What the status LED tells the practitioner; each one looks different."""

    OFF = "off"
    READY = "ready"  # slow breathing / steady dim
    RECORDING = "recording"  # steady on
    SAVING = "saving"  # fast blink
    STORAGE_LOW = "storage_low"  # double blink, pause
    FAULT = "fault"  # SOS-like triple blink


@runtime_checkable
class Controls(Protocol):
    """The physical button(s) and status LED."""

    def on_press(self, callback: Callable[[], None]) -> None:
        """A short press (start/stop)."""

    def on_hold(self, callback: Callable[[], None]) -> None:
        """A hold of the configured time (safe shutdown request)."""

    def on_mark(self, callback: Callable[[], None]) -> None:
        """The optional second button (add a marker now)."""

    def show(self, pattern: LedPattern) -> None:
        """Switch the LED to a pattern."""

    def close(self) -> None:
        """Release the pins and stop any LED thread."""
