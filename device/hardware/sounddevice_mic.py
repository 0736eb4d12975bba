"""A real microphone through sounddevice (PortAudio): 48 kHz, mono, 16-bit.

Threads: PortAudio's callback thread copies each block, stamps it (``SampleClock``:
sample counting anchored when the stream opened, slowly corrected for the mic's own
crystal) and hands it to the sink — it never waits; a full queue costs one block,
counted. A watchdog thread notices a microphone that has gone: PortAudio ends the stream
when a USB mic is pulled (``finished_callback``), and a device that merely falls silent
is caught when real time runs more than ``stall_s`` past the sound delivered. Either way
``failed`` says why and no block follows, so the recorder carries on with video only.

Warm between recordings: after ``open`` the stream runs with no sink and only the level
is kept, for the page's meter; ``start`` gives the running stream a sink (the clock runs
on, so there is no gap and no second open), ``stop`` takes it away again. A stream that
failed while idle is opened afresh by the next ``open`` or ``start``.

Input overflows (PortAudio lost sound because this thread ran late) are counted per take
in ``overflows``; the recorder decides what a practitioner is told. The lost sound is not
known in length, so the sample count runs short by it: the sound after an overflow plays
that much early until the drift correction has absorbed it (at most 2 ms per second).

Arrival times come from ``time.monotonic``, never from the stream's own timestamps:
their clock base differs between ALSA devices (monotonic) and PulseAudio (wall time).
"""

from __future__ import annotations

import difflib
import logging
import math
import queue
import threading
from collections import deque
from typing import Any

import numpy as np

from device.errors import MicrophoneError
from device.hardware.audio_clock import SampleClock
from device.hardware.base import AudioSink, peak_dbfs
from device.hardware.monotonic import monotonic_us
from device.media.packets import AudioBlock
from device.threads import BackgroundThread

log = logging.getLogger(__name__)

_WATCH_EVERY_S = 0.2
_START_GRACE_S = 3.0  # PortAudio over PulseAudio can take ~2 s to deliver the first block
_JOIN_TIMEOUT_S = 2.0
_KEEP_S = 3  # seconds of blocks held while listening (PulseAudio bursts are ~2 s)


def _sd() -> Any:
    import sounddevice  # imported on use: importing it loads PortAudio and scans devices

    return sounddevice


def list_input_devices() -> list[str]:
    """Names of the sound devices that can record, as PortAudio lists them."""
    return [d["name"] for d in _sd().query_devices() if d["max_input_channels"] > 0]


def find_input_device(name: str | None) -> int | None:
    """PortAudio's index of the input whose name contains ``name`` (any case); an exact
    name wins over a partial one. None means the system default."""
    if name is None:
        return None
    inputs = [
        (index, d["name"])
        for index, d in enumerate(_sd().query_devices())
        if d["max_input_channels"] > 0
    ]
    wanted = name.casefold()
    exact = [i for i, n in inputs if n.casefold() == wanted]
    partial = [i for i, n in inputs if wanted in n.casefold()]
    if exact or partial:
        return (exact or partial)[0]
    raise MicrophoneError(_not_found_message(name, [n for _, n in inputs]))


def _not_found_message(name: str, available: list[str]) -> str:
    listed = ", ".join(repr(n) for n in available) or "none"
    message = f"no microphone matches {name!r}; inputs found: {listed}"
    close = difflib.get_close_matches(name, available, n=1, cutoff=0.5)
    return f"{message}. Did you mean {close[0]!r}?" if close else message


class SoundDeviceMicrophone:
    """``Microphone`` on a PortAudio input device chosen by (part of) its name."""

    def __init__(
        self,
        device: str | None = None,
        sample_rate: int = 48_000,
        # 20 ms. Larger blocks would cost less CPU (each is a wake-up of PortAudio's thread
        # and a GIL hand-off), but behind a bursty source (PulseAudio) they blur where a
        # block really ends: at 100 ms the drift correction errs by up to ~100 ms of lip
        # sync, at 20 ms by ~10 ms (tests/hardware/test_sounddevice_clock.py).
        blocksize: int = 960,
        stall_s: float = 1.0,
    ) -> None:
        self.device = device
        self.sample_rate = sample_rate
        self.blocksize = blocksize
        self._stall_us = stall_s * 1e6
        self._stream: Any = None
        self._listening = False  # open: keep the stream running between takes
        self._sink: AudioSink | None = None
        # While only listening, the last few seconds of blocks are kept in memory (never
        # on disk): a source that delivers ahead in bursts (PulseAudio) has already handed
        # over sound stamped after the press, and the take must begin with it.
        self._recent: deque[AudioBlock] = deque(maxlen=max(1, _KEEP_S * sample_rate // blocksize))
        self._handover: tuple[AudioSink, int] | None = None  # for PortAudio's thread to do
        self._lock = threading.Lock()  # sink changes vs. a handover on PortAudio's thread
        self._clock: SampleClock | None = None
        self._failed: str | None = None
        self._stopping = False
        self._level = -math.inf
        self._dropped = 0
        self._overflows = 0  # since the stream opened
        self._take_overflows_from = 0
        self._started_us = 0
        self._watchdog: BackgroundThread | None = None

    # --- Microphone ----------------------------------------------------------------------

    @property
    def level_dbfs(self) -> float:
        return self._level

    @property
    def failed(self) -> str | None:
        return self._failed

    @property
    def overflows(self) -> int:
        return self._overflows - self._take_overflows_from

    @property
    def dropped_blocks(self) -> int:
        """Blocks lost because the sink's queue was full, since ``start``."""
        return self._dropped

    @property
    def listening(self) -> bool:
        """Whether the stream is running (idle or in a take) and has not failed."""
        return self._stream is not None and self._failed is None

    def open(self) -> None:
        self._listening = True
        if not self.listening:
            self._open_stream(monotonic_us())

    def close(self) -> None:
        self._listening = False
        with self._lock:
            self._sink = self._handover = None
        self._release()
        self._level = -math.inf  # not listening: the meter must not show a stale level

    def start(self, sink: AudioSink, start_us: int) -> None:
        if (self._sink or self._handover) is not None and self._failed is None:
            raise MicrophoneError("the microphone is already recording", hint="Stop it first.")
        self._dropped = 0
        self._take_overflows_from = self._overflows
        if self.listening:
            with self._lock:  # the next block hands the take what it already holds
                self._handover = (sink, start_us)
        else:
            self._open_stream(start_us, sink)  # the sink is there before the first block

    def stop(self) -> None:
        with self._lock:  # an in-flight callback finishes; later ones deliver nothing
            self._sink = self._handover = None
        if not (self._listening and self.listening):
            self._release()

    # --- the stream -----------------------------------------------------------------------

    def _open_stream(self, start_us: int, sink: AudioSink | None = None) -> None:
        self._release()  # a failed stream may still be open: release it before trying again
        index = find_input_device(self.device)
        self._sink, self._failed, self._stopping = sink, None, False
        self._recent.clear()
        self._level, self._overflows, self._take_overflows_from = -math.inf, 0, 0
        self._clock = SampleClock(start_us=start_us, nominal_rate=self.sample_rate)
        self._started_us = monotonic_us()
        try:
            self._stream = _sd().InputStream(
                device=index,
                samplerate=self.sample_rate,
                channels=1,
                dtype="int16",
                blocksize=self.blocksize,
                callback=self._on_block,
                finished_callback=self._on_finished,
            )
            self._stream.start()
        except Exception as e:  # PortAudioError, or ValueError for a rate the mic refuses
            self._close_stream()
            raise MicrophoneError(f"could not start the microphone {self.device!r}: {e}") from e
        stop = threading.Event()
        self._watchdog = BackgroundThread(
            self._watch, stop, name="mic-watchdog", stopping=stop, join_s=_JOIN_TIMEOUT_S
        )
        self._watchdog.start()

    def _release(self) -> None:
        self._stopping = True
        if self._watchdog is not None:
            self._watchdog.stop()
            self._watchdog = None
        self._close_stream()

    # --- PortAudio's thread -------------------------------------------------------------

    def _on_block(self, indata: Any, frames: int, _time: Any, status: Any) -> None:
        arrival_us = monotonic_us()
        clock = self._clock
        if self._failed is not None:
            raise _sd().CallbackStop
        if clock is None:
            return
        if status.input_overflow:
            self._overflows += 1  # logged by the watchdog: logging here could wait on a lock
        samples = np.array(indata[:, 0], dtype=np.int16)  # PortAudio reuses ``indata``
        block = AudioBlock(samples=samples, timestamp_us=clock.stamp(frames, arrival_us))
        self._level = peak_dbfs(samples)
        if self._handover is not None:
            self._take_over()
        sink = self._sink
        if sink is None:
            self._recent.append(block)  # listening for the meter only
            return
        try:
            sink(block)
        except queue.Full:
            self._dropped += 1
        except Exception as e:  # a broken sink must not take PortAudio's thread down silently
            self._fail(f"the recorder could not take sound: {e}")
            raise _sd().CallbackAbort from e

    def _take_over(self) -> None:
        """Start the asked-for take (on PortAudio's thread): first the held blocks that
        reach past its start, then every new one."""
        with self._lock:
            if self._handover is None:
                return
            sink, start_us = self._handover
            self._handover = None
            for held in self._recent:
                if held.timestamp_us + len(held.samples) * 1_000_000 // self.sample_rate > start_us:
                    try:
                        sink(held)
                    except queue.Full:
                        self._dropped += 1
            self._recent.clear()
            self._sink = sink

    def _on_finished(self) -> None:
        if not self._stopping:
            self._fail("the microphone stopped delivering sound (was it unplugged?)")

    # --- watchdog -----------------------------------------------------------------------

    def _watch(self, stop: threading.Event) -> None:
        overflows = self._overflows
        while not stop.wait(_WATCH_EVERY_S):
            if self._overflows != overflows:
                log.warning("microphone overflowed %d time(s): sound was lost", self._overflows)
                overflows = self._overflows
            reason = self._silence_reason(monotonic_us())
            if reason is not None:
                self._fail(reason)
                return

    def _silence_reason(self, now_us: int) -> str | None:
        clock = self._clock
        if clock is None or self._failed is not None:
            return None
        if clock.samples == 0:
            if now_us - self._started_us > _START_GRACE_S * 1e6:
                return f"the microphone gave no sound in its first {_START_GRACE_S:.0f} s"
            return None
        if clock.behind_us(now_us) > self._stall_us:
            return f"no sound from the microphone for over {self._stall_us / 1e6:.1f} s"
        return None

    def _fail(self, reason: str) -> None:
        if self._failed is None and not self._stopping:
            self._failed = reason
            self._sink = None
            self._level = -math.inf
            log.warning("microphone failed: %s", reason)

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.abort()  # not stop(): no point waiting ~1 s to drain a few ms of sound
            stream.close()
        except Exception:
            log.exception("could not close the microphone stream cleanly")
