"""The recorder: idle → recording → finalizing → idle, or fault. Imports no hardware.

Start and stop come from the button, the web page or the CLI; all three call the same
methods, so every face of the kit sees one shared state. A recording needs no secret:
it encrypts to the public keys in ``keys/recipients.txt``.
"""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from device.errors import MicrophoneError, RecordingError, StorageFull
from device.hardware.base import Camera, Microphone
from device.hardware.monotonic import monotonic_us
from device.library import Library, State, new_recording_id
from device.recording.capture import Capture, CaptureLimits, CaptureResult, PacketSink
from device.threads import BackgroundThread

log = logging.getLogger(__name__)


class RecorderState(StrEnum):
    IDLE = "idle"
    RECORDING = "recording"
    FINALIZING = "finalizing"
    FAULT = "fault"


@dataclass(frozen=True)
class Status:
    state: RecorderState
    recording_id: str | None = None
    started_us: int | None = None
    warning: str | None = None  # e.g. "no microphone: recording picture only"
    fault: str | None = None
    last_stop_reason: str | None = None

    def elapsed_s(self, now_us: int) -> float | None:
        """Seconds since the recording started, or None when not recording."""
        if self.state != RecorderState.RECORDING or self.started_us is None:
            return None
        return max(0, now_us - self.started_us) / 1e6


class Film(Protocol):
    """One film on disk being written: the muxer to feed, and how to end it."""

    @property
    def muxer(self) -> PacketSink: ...

    def finish(self, result: CaptureResult) -> tuple[int, str]:
        """Close the film properly; return (ciphertext size, sha256)."""
        ...

    def abandon(self) -> None:
        """Close what can be closed, leaving the file unfinished (salvage seals it)."""
        ...


FilmFactory = Callable[[str, bool], Film]  # (recording id, has audio) -> Film
_ID_TRIES = 5  # 48 random bits: a second clash in the same second is not expected
Filing = Callable[[str], object]  # files a new recording into a case (device.cases)
BYTES_PER_SECOND_GUESS = 1_100_000  # 8 Mbit/s video + AAC + overhead, for "minutes left"


class Recorder:
    def __init__(
        self,
        *,
        library: Library,
        camera: Camera,
        microphone: Microphone | None,
        film_factory: FilmFactory,
        limits: CaptureLimits | None = None,
        bytes_per_second: int = BYTES_PER_SECOND_GUESS,
        filing: Filing | None = None,
    ) -> None:
        self._library = library
        self._camera = camera
        self._mic = microphone
        self._film_factory = film_factory
        self._limits = limits or CaptureLimits()
        self._limits.free_bytes = library.free_bytes
        self._bytes_per_second = bytes_per_second
        self._filing = filing
        self._lock = threading.RLock()
        self._status = Status(RecorderState.IDLE)
        self._capture: Capture | None = None
        self._done = threading.Event()
        self._done.set()
        self._finisher: BackgroundThread | None = None  # the last recording's finishing thread
        self._listeners: list[Callable[[Status], None]] = []
        self._mic_problem: str | None = None  # why the microphone could not be opened
        self._last_take_note: str | None = None  # what went wrong with the last take's sound
        if microphone is not None:
            self._open_microphone()  # listening from now on, for the meter

    def close(self) -> None:
        """Stop any recording, then stop listening to the microphone."""
        self.stop(reason="the kit is shutting down")
        if self._finisher is not None:
            self._finisher.join_within()  # done is set: the thread is ending, or stuck
        if self._mic is not None:
            self._mic.close()

    # --- what the faces of the kit call -------------------------------------------------

    @property
    def status(self) -> Status:
        """The state, with a warning that is always current (a microphone can fail while
        nobody records)."""
        status = self._status
        warning = self._warning()
        return status if warning == status.warning else replace(status, warning=warning)

    def subscribe(self, listener: Callable[[Status], None]) -> None:
        self._listeners.append(listener)

    def audio_level_dbfs(self) -> float | None:
        """The microphone's recent peak level for the page's meter; None with no microphone.

        Live while idle too (the microphone listens between recordings, storing nothing).
        -inf means silence, or a microphone that is not working (see the status warning)."""
        if self._mic is None:
            return None
        return self._mic.level_dbfs

    @property
    def reserve_bytes(self) -> int:
        """The free space kept on the card (a repair of an older film keeps it too)."""
        return self._limits.reserve_bytes

    def minutes_left(self) -> float:
        spare = self._library.free_bytes() - self._limits.reserve_bytes
        return max(0.0, spare / self._bytes_per_second / 60)

    def toggle(self) -> None:
        if self._status.state == RecorderState.RECORDING:
            self.stop()
        elif self._status.state in (RecorderState.IDLE, RecorderState.FAULT):
            self.start()

    def start(self, max_seconds: float | None = None, *, filing: Filing | None = None) -> str:
        """Start a recording; ``filing`` files it instead of the kit's own filing (into
        the current case or Unassigned), as ``vigkit record --case`` does."""
        with self._lock:
            if self._status.state in (RecorderState.RECORDING, RecorderState.FINALIZING):
                raise RecordingError(
                    "a recording is already running", hint="Stop it first, then start again."
                )
            if self.minutes_left() < 1:
                raise StorageFull(
                    f"less than a minute of space is left "
                    f"({self._library.free_bytes() // 1_000_000} MB free)"
                )
            return self._start(max_seconds, filing or self._filing)

    def _start(self, max_seconds: float | None, filing: Filing | None) -> str:
        has_audio = self._open_microphone()
        start_us = monotonic_us()
        self._last_take_note = None
        rec_id, film = self._new_film(has_audio)
        self._library.index.add(
            rec_id, datetime.now(UTC).isoformat(timespec="seconds"), start_us, has_audio
        )
        self._library.audit.append("record start", rec_id)
        self._file(rec_id, filing)
        limits = replace(
            self._limits,
            max_duration_us=None if max_seconds is None else round(max_seconds * 1e6),
        )
        capture = Capture(
            camera=self._camera,
            microphone=self._mic if has_audio else None,
            muxer=film.muxer,
            start_us=start_us,
            limits=limits,
            on_event=lambda event, detail: self._library.audit.append(event, rec_id, **detail),
            fps=self._camera.fps,
        )
        self._capture = capture
        self._done.clear()
        capture.start()
        self._set(
            replace(
                self._status,
                state=RecorderState.RECORDING,
                recording_id=rec_id,
                started_us=start_us,
                fault=None,
            )
        )
        self._finisher = BackgroundThread(self._finish, rec_id, capture, film, name="vigkit-finish")
        self._finisher.start()
        return rec_id

    def _new_film(self, has_audio: bool) -> tuple[str, Film]:
        """A film under an id no other recording has: the film file is created with
        O_EXCL, so a taken id (same second after the clock was set back, same random
        part) is refused by the file system and another id is drawn."""
        for _ in range(_ID_TRIES - 1):
            rec_id = new_recording_id()
            try:
                return rec_id, self._film_factory(rec_id, has_audio)
            except FileExistsError:
                log.warning("recording id %s is taken (clock set back?): drawing another", rec_id)
        rec_id = new_recording_id()
        return rec_id, self._film_factory(rec_id, has_audio)

    def _file(self, rec_id: str, filing: Filing | None) -> None:
        """Into the current case, or Unassigned; the button never refuses, so a failure
        here leaves the film unsorted rather than stopping it."""
        if filing is None:
            return
        try:
            filing(rec_id)
        except Exception:
            log.exception("recording %s could not be filed into a case", rec_id)

    def stop(self, reason: str = "stopped", wait: bool = True, timeout: float = 60) -> None:
        capture = self._capture
        if capture is not None:
            capture.request_stop(reason)
        if wait:
            self.wait(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Until the current recording (if any) is finalized."""
        return self._done.wait(timeout)

    def add_marker(self) -> None:
        capture = self._capture
        if capture is not None and self._status.state == RecorderState.RECORDING:
            capture.add_marker(monotonic_us())

    # --- the finishing thread --------------------------------------------------------

    def _finish(self, rec_id: str, capture: Capture, film: Film) -> None:
        try:
            capture.wait_stopping()
            self._set(replace(self._status, state=RecorderState.FINALIZING))
            result = capture.join()
            size, sha = film.finish(result)
            self._record_finished(rec_id, result, size, sha)
            self._last_take_note = _take_note(result)
            # the id stays on the idle status: the page says which film was just saved
            self._set(
                Status(RecorderState.IDLE, recording_id=rec_id, last_stop_reason=result.stop_reason)
            )
        except Exception as e:  # the film stays on disk, unfinished: salvage will seal it
            log.exception("recording %s failed", rec_id)
            film.abandon()
            reason = _plain_reason(e)
            self._library.index.update(rec_id, state=State.INTERRUPTED, stop_reason=reason)
            self._library.audit.append("fault", rec_id, reason=reason)
            self._set(Status(RecorderState.FAULT, fault=reason))
        finally:
            self._capture = None
            self._done.set()

    def _record_finished(self, rec_id: str, r: CaptureResult, size: int, sha: str) -> None:
        self._library.index.update(
            rec_id,
            state=State.COMPLETE,
            duration_s=round(r.duration_s, 3),
            size=size,
            sha256=sha,
            mic_lost=r.mic_lost is not None,
            camera_restarts=r.camera_restarts,
            dropped_frames=r.dropped,
            stop_reason=r.stop_reason,
        )
        detail: dict[str, Any] = {"duration_s": round(r.duration_s, 1), "reason": r.stop_reason}
        if r.audio_overflows:
            detail |= {"audio_overflows": r.audio_overflows, "sound_gaps": r.sound_gaps}
        self._library.audit.append("record stop", rec_id, **detail)

    # --- the microphone ------------------------------------------------------------------

    def _open_microphone(self) -> bool:
        """Listening (opened afresh if it failed)? False: record picture only."""
        mic = self._mic
        if mic is None:
            return False
        try:
            mic.open()
        except MicrophoneError as e:
            log.warning("%s: recording picture only", e.message)
            self._mic_problem = e.message
            return False
        self._mic_problem = None
        return mic.failed is None

    def _warning(self) -> str | None:
        mic = self._mic
        if mic is None:
            return "No microphone: recording picture only."
        notes = []
        problem = self._mic_problem or mic.failed
        if problem is not None:
            notes.append(
                f"The microphone is not working ({problem}): check its plug. Until it works, "
                "recordings have picture only."
            )
        capture = self._capture
        if capture is not None and capture.result.sound_gaps:
            notes.append(
                f"The sound is breaking up: the microphone lost sound "
                f"{capture.result.audio_overflows} times, so this film's sound has gaps."
            )
        elif capture is None and self._last_take_note is not None:
            notes.append(self._last_take_note)
        return " ".join(notes) or None

    def _set(self, status: Status) -> None:
        self._status = status
        for listener in list(self._listeners):
            try:
                listener(status)
            except Exception:  # a broken listener (LED, page) must not stop a recording
                log.exception("status listener failed")


def _take_note(r: CaptureResult) -> str | None:
    """What the practitioner should know about the sound of the take just finished."""
    if r.mic_lost is not None:
        return f"The last recording lost its microphone ({r.mic_lost}): its end has no sound."
    if r.sound_gaps:
        return (
            f"The last recording's sound has gaps: the microphone lost sound "
            f"{r.audio_overflows} times because the kit could not keep up."
        )
    return None


def _plain_reason(e: BaseException) -> str:
    if isinstance(e, OSError) and e.errno == errno.ENOSPC:
        return "the storage card is full"
    return str(e) or type(e).__name__
