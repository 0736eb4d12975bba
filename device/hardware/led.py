"""The status LED's patterns and the thread that plays them on any on/off output.

Each pattern is a cycle of (lit, seconds) steps. They differ in rhythm, not just speed,
so a practitioner glancing at a single LED can tell them apart:

* READY: a 0.1 s blip every 3 s (alive, idle, barely noticeable in a family's room);
* RECORDING: steady on;
* SAVING: fast 5 Hz blink;
* STORAGE_LOW: two blinks, then a pause;
* FAULT: three quick blinks, then a pause;
* OFF: off.

The player keeps to the schedule by deadlines rather than by summing sleeps, so a busy
Pi stretches a step now and then but the rhythm does not drift.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from device.hardware.base import LedPattern
from device.threads import BackgroundThread

log = logging.getLogger(__name__)

Step = tuple[bool, float]

PATTERNS: dict[LedPattern, tuple[Step, ...]] = {
    LedPattern.OFF: ((False, 0.0),),
    LedPattern.READY: ((True, 0.1), (False, 2.9)),
    LedPattern.RECORDING: ((True, 0.0),),
    LedPattern.SAVING: ((True, 0.1), (False, 0.1)),
    LedPattern.STORAGE_LOW: ((True, 0.15), (False, 0.15), (True, 0.15), (False, 1.55)),
    LedPattern.FAULT: (
        (True, 0.1),
        (False, 0.1),
        (True, 0.1),
        (False, 0.1),
        (True, 0.1),
        (False, 1.3),
    ),
}

_JOIN_TIMEOUT_S = 1.0


class PatternPlayer:
    """Plays one ``LedPattern`` at a time through ``write(lit)``."""

    def __init__(self, write: Callable[[bool], None]) -> None:
        self._write = write
        self._lock = threading.Lock()
        self._pattern: LedPattern | None = None
        self._thread: BackgroundThread | None = None
        self._closed = False

    @property
    def pattern(self) -> LedPattern | None:
        return self._pattern

    def show(self, pattern: LedPattern) -> None:
        """Switch to ``pattern``; showing the current pattern again keeps its rhythm."""
        with self._lock:
            if self._closed:  # a late status change during shutdown: the LED is gone
                return
            if pattern is self._pattern:
                return
            self._halt()
            self._pattern = pattern
            steps = PATTERNS[pattern]
            if len(steps) == 1:  # steady: no thread needed
                self._write(steps[0][0])
                return
            stop = threading.Event()
            thread = BackgroundThread(
                self._play,
                steps,
                stop,
                name=f"led-{pattern.value}",
                stopping=stop,
                join_s=_JOIN_TIMEOUT_S,
            )
            self._thread = thread
            thread.start()

    def close(self) -> None:
        """Stop the pattern thread and leave the LED off."""
        with self._lock:
            self._halt()
            self._pattern = None
            self._closed = True
            self._write(False)

    def _halt(self) -> None:
        if self._thread is not None:
            self._thread.stop()
            self._thread = None

    def _play(self, steps: tuple[Step, ...], stop: threading.Event) -> None:
        deadline = time.monotonic()
        while True:
            for lit, seconds in steps:
                self._write(lit)
                deadline += seconds
                if stop.wait(max(0.0, deadline - time.monotonic())):
                    return
