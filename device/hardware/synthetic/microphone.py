"""A synthetic 48 kHz mono microphone: a quiet tone (or noise) with clicks on the flashes.

Sample ``s`` of a take is stamped ``start_us + s * 1e6 / rate``. Each click starts on a
flash instant of ``schedule`` counted from the clock's anchor (the camera's first frame),
so the click onset and the flash frame coincide in the file. A block is delivered once its
last sample is "captured": real time on ``RealTimeClock``, at once on ``VirtualClock``.
"""

from __future__ import annotations

import logging
import math
import queue
import threading

import numpy as np
import numpy.typing as npt

from device.hardware.base import AudioBlock, AudioSink
from device.hardware.synthetic.clock import Pace, RealTimeClock, SyntheticClock
from device.hardware.synthetic.schedule import CLICK_LENGTH_US, flash_offsets_us

log = logging.getLogger(__name__)

_CLICK_LEVEL = 0.7  # of full scale; the tone sits far below at -30 dBFS
_CLICK_HZ = 3_000
_JOIN_TIMEOUT_S = 5.0


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
        self._thread: tuple[threading.Thread, threading.Event] | None = None
        self._lock = threading.Lock()
        self._sink: AudioSink | None = None
        self._unplug = threading.Event()
        self._level = -math.inf
        self._failed: str | None = None
        self.blocks_delivered = 0
        self.dropped_blocks = 0  # refused by a full hand-off queue (real time only)

    def start(self, sink: AudioSink, start_us: int) -> None:
        self.stop()
        self._failed = None
        self._unplug.clear()
        with self._lock:
            self._sink = sink
        stop = threading.Event()
        pace = self.clock.join(start_us)
        thread = threading.Thread(
            target=self._run, args=(pace, start_us, stop), name="synthetic-mic", daemon=True
        )
        self._thread = (thread, stop)
        thread.start()

    def stop(self) -> None:
        with self._lock:
            self._sink = None
        if self._thread is not None:
            thread, stop = self._thread
            stop.set()
            thread.join(_JOIN_TIMEOUT_S)
            if thread.is_alive():
                log.warning("%s did not stop within %.0f s", thread.name, _JOIN_TIMEOUT_S)
            self._thread = None

    @property
    def level_dbfs(self) -> float:
        return self._level

    @property
    def failed(self) -> str | None:
        return self._failed

    def trigger_fake_unplug(self) -> None:
        """Stop delivering as if the USB microphone was pulled out."""
        self._unplug.set()

    def _run(self, pace: Pace, start_us: int, stop: threading.Event) -> None:
        try:
            first = 0
            while True:
                end_us = start_us + self._sample_us(first + self.block_size)
                if not pace.wait_until(end_us, stop):
                    return
                if self._unplug.is_set():
                    self._failed = "the microphone was unplugged"
                    return
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
        peak = int(np.abs(block.samples.astype(np.int32)).max(initial=0))
        self._level = 20 * math.log10(peak / 32768) if peak else -math.inf
        while True:
            with self._lock:
                if self._sink is None:
                    return
                try:
                    self._sink(block)
                    self.blocks_delivered += 1
                    return
                except queue.Full:
                    if not self.clock.waits_for_consumer:
                        self.dropped_blocks += 1
                        return
            if stop.wait(0.005):  # virtual time: wait for the consumer to catch up
                return
