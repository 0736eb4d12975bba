"""One recording in flight: camera and microphone → merge by time → muxer → age → disk.

The camera and microphone threads only ever put into one bounded ``Inbox`` (a full inbox
is a counted drop, never a stall on the camera thread), which wakes the mux thread every
few frames rather than for every item, and hands over all that has queued up in one go
(see ``device.recording._inbox``). A single mux thread owns
everything downstream: it merges by timestamp, feeds the muxer (whose film makes each
finished fragment durable, see ``device.recording.film.SealingTap``), watches free space, restarts
a stalled camera, and notices a microphone that went away. It imports no hardware
library: sources come in as Protocols.
"""

from __future__ import annotations

import logging
import queue
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from device.errors import MicrophoneError, RecordingError
from device.hardware.base import Camera, Microphone
from device.media.packets import AudioBlock, EncodedFrame
from device.recording._gather import SoundGatherer
from device.recording._inbox import Inbox
from device.recording._merge import Merger
from device.threads import BackgroundThread

log = logging.getLogger(__name__)

QUEUE_ITEMS = 2000  # ~10 s of 1080p30 frames plus audio blocks; a full queue = a drop
# Wake the mux thread once three frames (100 ms at 30 fps) are waiting: ten wake-ups a
# second instead of ~80. With sound gathered into 100 ms blocks (device.recording._gather) a
# fragment reaches the card within about 0.2 s of its end.
WAKE_FRAMES = 3
_IDLE_WAIT_S = 0.25  # longest sleep, so the health checks run on time with no frames
# An overflow now and then is a click in the sound; overflows in this many health checks
# (seconds) within the window mean the kit cannot keep up and the sound has gaps.
GAPS_AFTER_OVERFLOWING_CHECKS = 3
GAPS_WINDOW_S = 30.0


class PacketSink(Protocol):
    """What the capture feeds: the fragmented-MP4 muxer, which waits for the first
    keyframe and holds the sound before it (``device.media.muxer``)."""

    @property
    def started_us(self) -> int | None: ...  # the film's first picture, once it is in

    def add_video(self, frame: EncodedFrame) -> None: ...
    def add_audio(self, block: AudioBlock) -> None: ...
    def close(self) -> None: ...


@dataclass
class CaptureLimits:
    max_duration_us: int | None = None  # stop by itself after this much film
    watchdog_s: float = 3.0  # no camera frame this long → restart the camera
    check_every_s: float = 1.0  # how often the camera and microphone are checked on
    free_bytes: Callable[[], int] = lambda: 1 << 62
    reserve_bytes: int = 0


@dataclass
class CaptureResult:
    first_us: int | None = None
    last_us: int | None = None
    video_frames: int = 0
    audio_blocks: int = 0
    dropped: int = 0
    camera_restarts: int = 0
    mic_lost: str | None = None
    audio_overflows: int = 0  # sound the microphone lost before it reached us (glitches)
    sound_gaps: bool = False  # overflows kept coming: the film's sound has gaps
    stop_reason: str = "stopped"
    markers_us: list[int] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        if self.first_us is None or self.last_us is None:
            return 0.0
        return (self.last_us - self.first_us) / 1e6


class Capture:
    def __init__(
        self,
        *,
        camera: Camera,
        microphone: Microphone | None,
        muxer: PacketSink,
        start_us: int,
        limits: CaptureLimits,
        on_event: Callable[[str, dict[str, Any]], object] = lambda event, detail: None,
        fps: int = 30,
    ) -> None:
        self._camera = camera
        self._mic = microphone
        self._muxer = muxer
        self._start_us = start_us
        self._limits = limits
        self._on_event = on_event
        self._frame_us = 1_000_000 // max(fps, 1)
        self._inbox: Inbox[tuple[str, Any]] = Inbox(QUEUE_ITEMS, wake_weight=WAKE_FRAMES)
        self._thread = BackgroundThread(self._run, name="vigkit-mux")
        self._stop = self._thread.stopping  # a stop asked for (or the capture stopping itself)
        self.result = CaptureResult()
        self.error: BaseException | None = None
        self._last_frame_at = time.monotonic()
        self._draining = False
        self._dropped_before = camera.dropped_frames
        self._sample_rate = microphone.sample_rate if microphone is not None else 48_000
        self._gather = SoundGatherer(self._sample_rate, self._put_audio)
        self._overflowing: deque[float] = deque()  # health checks that saw new overflows

    # --- the source threads' side: never block -------------------------------------

    def _on_frame(self, frame: EncodedFrame) -> None:
        # Until the film's first frame is out, every item wakes the mux thread: a press
        # shows as a recording at once. queue.Full: the camera counts a drop.
        self._inbox.put(("video", frame), 1 if self.result.first_us is not None else WAKE_FRAMES)

    def _on_audio(self, block: AudioBlock) -> None:
        if self.result.first_us is None:  # no waiting until the film's first frame is out
            self._gather.flush()
            self._put_audio(block)
        else:
            self._gather.add(block)  # joined into ~100 ms blocks: see device.recording._gather

    def _put_audio(self, block: AudioBlock) -> None:
        self._inbox.put(("audio", block), 0 if self.result.first_us is not None else WAKE_FRAMES)

    # --- control ---------------------------------------------------------------------

    def start(self) -> None:
        self._camera.start_encoding(self._on_frame)
        if self._mic is not None:
            try:
                self._mic.start(self._on_audio, self._start_us)
            except MicrophoneError as e:  # gone since the recorder looked: picture only
                self.result.mic_lost = e.message
                self._mic = None
                self._on_event("microphone lost", {"reason": e.message})
        self._thread.start()

    def request_stop(self, reason: str = "stopped") -> None:
        if not self._stop.is_set():
            self.result.stop_reason = reason
            self._stop.set()
            self._inbox.wake()

    def add_marker(self, at_us: int) -> None:
        self.result.markers_us.append(at_us)

    def wait_stopping(self) -> None:
        """Until a stop is asked for (or the capture stops by itself)."""
        self._stop.wait()

    def join(self, timeout: float = 30.0) -> CaptureResult:
        if not self._thread.join_within(timeout):
            raise RecordingError(f"the recording did not finish within {timeout} s")
        if self.error is not None:
            raise self.error
        return self.result

    # --- the mux thread ----------------------------------------------------------------

    def _run(self) -> None:
        streams = ["video", "audio"] if self._mic is not None else ["video"]
        merger: Merger[Any] = Merger(streams, patience=1.0)
        next_check = time.monotonic() + self._limits.check_every_s
        try:
            while not self._stop.is_set():
                self._push(merger, self._inbox.take(_IDLE_WAIT_S))
                self._emit(merger.pop_ready())
                now = time.monotonic()
                if now >= next_check:
                    next_check = now + self._limits.check_every_s
                    self._check_health(merger, now)
            self._sources_off()
            self._push(merger, self._inbox.drain())
            self._draining = True
            self._emit(merger.drain())
        except BaseException as e:  # handed to join(); the recorder turns it into a fault
            self.error = e
            self._stop.set()
            self._sources_off()

    def _push(self, merger: Merger[Any], items: list[tuple[str, Any]]) -> None:
        for stream, item in items:
            until = self._block_end(item) if stream == "audio" else None
            merger.push(stream, item.timestamp_us, item, until)

    def _block_end(self, block: AudioBlock) -> int:
        return block.timestamp_us + len(block.samples) * 1_000_000 // self._sample_rate

    def _emit(self, items: list[tuple[str, Any]]) -> None:
        r = self.result
        for stream, item in items:
            if stream == "video":
                self._emit_video(item)
                continue
            ended = self._draining or self._stop.is_set()
            if ended and r.last_us is not None and item.timestamp_us >= r.last_us:
                continue  # sound after the last picture: the film ends with its picture
            self._muxer.add_audio(item)  # the muxer holds sound until the first keyframe
            r.audio_blocks += 1

    def _emit_video(self, frame: EncodedFrame) -> None:
        r = self.result
        limit, first = self._limits.max_duration_us, r.first_us
        if first is not None and limit is not None and frame.timestamp_us - first >= limit:
            self.request_stop("reached the asked length")
            return
        if frame.keyframe and self._limits.free_bytes() < self._limits.reserve_bytes:
            # checked once per second of film, so even a fast source stops in time
            self.request_stop("the storage card is full")
        self._muxer.add_video(frame)
        if r.first_us is None:
            r.first_us = self._muxer.started_us
            if r.first_us is None:
                return  # a film starts on a keyframe: the muxer dropped this frame
        self._last_frame_at = time.monotonic()
        r.video_frames += 1
        r.last_us = frame.timestamp_us + self._frame_us

    def _check_health(self, merger: Merger[Any], now: float) -> None:
        if self._mic is not None and self.result.mic_lost is None and self._mic.failed:
            self.result.mic_lost = self._mic.failed
            self._flush_sound()  # the sound it gave before it went
            self._push(merger, self._inbox.drain())
            merger.end("audio")
            self._on_event("microphone lost", {"reason": self._mic.failed})
        if self._mic is not None:
            self._check_overflows(self._mic.overflows, now)
        if now - self._last_frame_at > self._limits.watchdog_s:
            self._restart_camera(now)

    def _check_overflows(self, overflows: int, now: float) -> None:
        r = self.result
        if overflows <= r.audio_overflows:
            return
        if r.audio_overflows == 0:
            self._on_event("microphone overflowed", {"count": overflows})
        r.audio_overflows = overflows
        self._overflowing.append(now)
        while now - self._overflowing[0] > GAPS_WINDOW_S:
            self._overflowing.popleft()
        if not r.sound_gaps and len(self._overflowing) >= GAPS_AFTER_OVERFLOWING_CHECKS:
            r.sound_gaps = True
            log.warning("the microphone keeps overflowing: the sound has gaps")
            self._on_event("sound has gaps", {"overflows": overflows})

    def _restart_camera(self, now: float) -> None:
        self.result.camera_restarts += 1
        self._on_event("camera restarted", {"silent_s": round(now - self._last_frame_at, 1)})
        log.warning("no camera frame for %.1f s: restarting the camera", now - self._last_frame_at)
        self._camera.stop_encoding()
        self._camera.close()
        self._camera.open()
        self._camera.start_encoding(self._on_frame)
        self._last_frame_at = time.monotonic()

    def _flush_sound(self) -> None:
        try:
            self._gather.flush()
        except queue.Full:
            log.warning("the last moment of sound was lost: the recording queue was full")

    def _sources_off(self) -> None:
        self._camera.stop_encoding()
        if self._mic is not None:
            self._mic.stop()
            self._flush_sound()
        self.result.dropped = self._camera.dropped_frames - self._dropped_before
