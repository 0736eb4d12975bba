"""A synthetic 48 kHz mono microphone: a quiet tone (or noise) with clicks on the flashes.

Sample ``s`` of a take is stamped ``start_us + s * 1e6 / rate``. Each click starts on a
flash instant of ``schedule`` counted from the clock's anchor (the camera's first frame),
so the click onset and the flash frame coincide in the file. A block is delivered once its
last sample is "captured": real time on ``RealTimeClock``, at once on ``VirtualClock``.

Between takes an ``open`` microphone keeps listening for the meter, as the real one does:
on the real-time clock a monitor thread renders the tone at its pace and keeps only its
level; on a virtual clock (tests, benchmarks) there is no time to pace, so the level is
the tone's. Fault switches: ``trigger_fake_unplug`` (the device goes; ``permanent``: it
stays gone until ``trigger_fake_replug``) and ``trigger_fake_overflow`` (blocks lost before
they reach us, as a starved PortAudio thread loses them, and counted).
"""

from __future__ import annotations

import math
import threading

import numpy as np
import numpy.typing as npt

from device.errors import MicrophoneError
from device.hardware.base import AudioSink, peak_dbfs
from device.hardware.monotonic import monotonic_us
from device.hardware.synthetic.pacing import Pace, RealTimeClock, SyntheticClock, hand_over
from device.hardware.synthetic.schedule import CLICK_LENGTH_US, flash_offsets_us
from device.media.packets import AudioBlock
from device.threads import BackgroundThread

_CLICK_LEVEL = 0.7  # of full scale; the tone sits far below at -30 dBFS
_CLICK_HZ = 3_000


class SyntheticMicrophone:
    """Implements ``Microphone``; ``trigger_fake_unplug`` makes it fail mid-take."""

    def __init__(
        self,
        *,
        clock: SyntheticClock | None = None,
        sample_rate: int = 48_000,
        block_size: int = 1024,
        tone_hz: float = 440.0,
        level_dbfs: float = -30.0,
        noise: bool = False,
    ) -> None:
        self.sample_rate = sample_rate
        self.block_size = block_size
        self.clock = clock or RealTimeClock()
        self._tone_hz = tone_hz
        self._amplitude = 32767 * 10 ** (level_dbfs / 20)
        self._noise = np.random.default_rng(7) if noise else None
        self._thread: BackgroundThread | None = None
        self._monitor: BackgroundThread | None = None
        self._listening = False
        self._lock = threading.Lock()
        self._sink: AudioSink | None = None
        self._unplug = threading.Event()
        self._gone = False  # unplugged for good: opening fails until a replug
        self._lose_blocks = 0  # blocks still to lose to a fake overflow
        self._overflows = 0
        self._level = -math.inf
        self._failed: str | None = None
        self.blocks_delivered = 0
        self.dropped_blocks = 0  # refused by a full hand-off queue (real time only)

    def open(self) -> None:
        """Listen for the meter between takes; a failed microphone is tried again."""
        self._check_present()
        self._listening = True
        if self._thread is None and (self._monitor is None or self._failed is not None):
            self._stop_monitor()  # a monitor that saw the mic go has ended: start afresh
            self._failed = None
            self._unplug.clear()
            self._start_monitor()

    def close(self) -> None:
        self._listening = False
        self.stop()
        self._stop_monitor()
        self._level = -math.inf

    def start(self, sink: AudioSink, start_us: int) -> None:
        self._check_present()
        self._stop_take()
        self._stop_monitor()  # the take renders (and meters) from here on
        self._failed = None
        self._overflows = 0
        self._unplug.clear()
        with self._lock:
            self._sink = sink
        stop = threading.Event()
        pace = self.clock.join(start_us)
        self._thread = BackgroundThread(
            self._run, pace, start_us, stop, name="synthetic-mic", stopping=stop
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop_take()
        if self._listening and self._failed is None:
            self._start_monitor()

    @property
    def level_dbfs(self) -> float:
        return self._level

    @property
    def failed(self) -> str | None:
        return self._failed

    @property
    def overflows(self) -> int:
        return self._overflows

    def trigger_fake_unplug(self, *, permanent: bool = False) -> None:
        """Stop delivering as if the USB microphone was pulled out."""
        self._gone = self._gone or permanent
        self._unplug.set()

    def trigger_fake_replug(self) -> None:
        self._gone = False

    def trigger_fake_overflow(self, blocks: int = 1) -> None:
        """Lose the next ``blocks`` blocks before they are delivered, each an overflow."""
        self._lose_blocks += blocks

    def _check_present(self) -> None:
        if self._gone:
            raise MicrophoneError("the microphone is not plugged in (simulated)")

    def _stop_take(self) -> None:
        with self._lock:
            self._sink = None
        if self._thread is not None:
            self._thread.stop()
            self._thread = None

    def _start_monitor(self) -> None:
        if self._monitor is not None:
            return
        if self.clock.waits_for_consumer:  # virtual time: nothing to pace, only the level
            self._level = peak_dbfs(self.render(0, 0))
            return
        stop = threading.Event()
        self._monitor = BackgroundThread(
            self._run_monitor, stop, name="synthetic-mic-monitor", stopping=stop
        )
        self._monitor.start()

    def _stop_monitor(self) -> None:
        if self._monitor is not None:
            self._monitor.stop()
            self._monitor = None

    def _run_monitor(self, stop: threading.Event) -> None:
        """Listen in real time for the meter only: nothing is kept."""
        start_us, first = monotonic_us(), 0
        pace = RealTimeClock().join(start_us)
        while pace.wait_until(start_us + self._sample_us(first + self.block_size), stop):
            if self._unplug.is_set():
                self._failed = "the microphone was unplugged"
                self._level = -math.inf
                return
            self._level = peak_dbfs(self.render(first, start_us))
            first += self.block_size

    def _run(self, pace: Pace, start_us: int, stop: threading.Event) -> None:
        try:
            first = 0
            while True:
                end_us = start_us + self._sample_us(first + self.block_size)
                if not pace.wait_until(end_us, stop):
                    return
                if self._unplug.is_set():
                    self._failed = "the microphone was unplugged"
                    self._level = -math.inf
                    return
                if self._lose_blocks:  # lost before it reached us: time moves on
                    self._lose_blocks -= 1
                    self._overflows += 1
                    first += self.block_size
                    continue
                samples = self.render(first, start_us)
                self._deliver(AudioBlock(samples, start_us + self._sample_us(first)), stop)
                first += self.block_size
        finally:
            pace.leave()

    def render(self, first: int, start_us: int) -> npt.NDArray[np.int16]:
        """Samples ``first … first + block_size`` of a take that started at ``start_us``."""
        index = np.arange(first, first + self.block_size)
        if self._noise is not None:
            signal = self._noise.uniform(-1.0, 1.0, self.block_size)
        else:
            signal = np.sin(2 * np.pi * self._tone_hz * index / self.sample_rate)
        pcm = signal * self._amplitude
        anchor = self.clock.anchor_us if self.clock.anchor_us is not None else start_us
        block_from = start_us + self._sample_us(first) - anchor
        block_to = start_us + self._sample_us(first + self.block_size) - anchor
        for offset in flash_offsets_us(block_from - CLICK_LENGTH_US, block_to):
            onset = round((anchor + offset - start_us) * self.sample_rate / 1_000_000)
            length = round(CLICK_LENGTH_US * self.sample_rate / 1_000_000)
            click = (index >= onset) & (index < onset + length)
            # A 3 kHz burst starting at phase 90°: a sharp onset well inside what AAC keeps
            # (an alternating-sign click sits at 24 kHz, which AAC filters away).
            phase = 2 * np.pi * _CLICK_HZ * (index[click] - onset) / self.sample_rate
            pcm[click] = np.cos(phase) * 32767 * _CLICK_LEVEL
        return pcm.astype(np.int16)

    def _sample_us(self, sample: int) -> int:
        return round(sample * 1_000_000 / self.sample_rate)

    def _deliver(self, block: AudioBlock, stop: threading.Event) -> None:
        self._level = peak_dbfs(block.samples)
        taken = hand_over(
            block, lock=self._lock, sink=lambda: self._sink, clock=self.clock, stop=stop
        )
        if taken:
            self.blocks_delivered += 1
        elif taken is False:
            self.dropped_blocks += 1
