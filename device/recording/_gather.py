"""Back-to-back sound blocks joined into longer ones before they cross to the mux thread.

A microphone delivers 20 ms blocks: small enough for a live meter and for the sample
clock's drift correction to see where a block really ends (see
``device.hardware.sounddevice_mic``). Everything after that — the hand-over to the mux
thread, merging by time, placing on the film's sample timeline, PyAV's encoder — costs
about the same per block whatever its length, so the capture joins them into blocks of
about ``GATHER_S`` first: a fifth of the work per second of sound, on a Pi Zero too. A
fragment is cut every second, so 100 ms of sound waiting here only ever moves it into
the next fragment.

Only blocks that follow on exactly (within ``CONTIGUOUS_US``) are joined; anything else
(an overflow's gap, a clock step) first sends what has gathered, so every sample keeps
the timestamp its microphone gave it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from device.media.packets import AudioBlock

GATHER_S = 0.1
CONTIGUOUS_US = 1000  # a block within 1 ms of where the last one ended continues it


class SoundGatherer:
    """Joins blocks from the microphone's thread and hands them to ``deliver``.

    ``add`` runs on the microphone's thread, ``flush`` on whichever thread ends the take
    (after the microphone has stopped); a lock keeps the two apart. ``deliver`` must not
    block (the capture's inbox raises ``queue.Full`` instead, which reaches the caller of
    ``add`` or ``flush``, as it would have for a single block)."""

    def __init__(
        self, sample_rate: int, deliver: Callable[[AudioBlock], None], *, gather_s: float = GATHER_S
    ) -> None:
        self._rate = sample_rate
        self._deliver = deliver
        self._want = max(1, round(gather_s * sample_rate))
        self._lock = threading.Lock()
        self._held: list[AudioBlock] = []
        self._held_samples = 0
        self._end_us = 0

    def add(self, block: AudioBlock) -> None:
        with self._lock:
            if self._held and abs(block.timestamp_us - self._end_us) > CONTIGUOUS_US:
                self._send()
            self._held.append(block)
            self._held_samples += len(block.samples)
            self._end_us = block.timestamp_us + len(block.samples) * 1_000_000 // self._rate
            if self._held_samples >= self._want:
                self._send()

    def flush(self) -> None:
        """Hand over whatever has gathered (the end of a take)."""
        with self._lock:
            self._send()

    def _send(self) -> None:
        held, self._held, self._held_samples = self._held, [], 0
        if len(held) == 1:
            self._deliver(held[0])
        elif held:
            samples = np.concatenate([b.samples for b in held])
            self._deliver(AudioBlock(samples, held[0].timestamp_us))
