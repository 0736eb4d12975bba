"""Pacing for synthetic sources: real time, or a shared virtual clock as fast as possible.

A source ``join``s the clock at its start instant and calls ``wait_until(t)`` before it
delivers the unit stamped ``t``. On the real-time clock that sleeps to ``t``. On the
virtual clock it returns at once unless the source is more than ``max_lead_us`` ahead of
the slowest other source, so camera and microphone stay within half a second of each
other and a consumer merging them by timestamp needs only small queues. A consumer that
is slower than the sources (a benchmark's muxer) may ``join`` too and call ``wait_until``
with the timestamp it has consumed, so the sources never run more than ``max_lead_us``
ahead of it either.

The clock also carries the recording's anchor (set by the camera on its first frame), from
which both sources place the flash/click schedule.
"""

from __future__ import annotations

import itertools
import threading
from typing import Protocol

from device.clock import monotonic_us


class Pace(Protocol):
    def wait_until(self, timestamp_us: int, stop: threading.Event) -> bool:
        """Block until ``timestamp_us`` may be delivered; False if ``stop`` was set."""

    def leave(self) -> None:
        """This source stopped; stop holding the others back."""


class SyntheticClock(Protocol):
    anchor_us: int | None
    # As fast as possible means as fast as the consumer takes: a full hand-off queue
    # makes a virtual-time source wait, where a real-time one drops (as hardware would).
    waits_for_consumer: bool

    def now_us(self) -> int: ...

    def join(self, start_us: int) -> Pace: ...


class RealTimeClock:
    """CLOCK_MONOTONIC in µs; sources sleep until each unit's instant."""

    waits_for_consumer = False

    def __init__(self) -> None:
        self.anchor_us: int | None = None

    def now_us(self) -> int:
        return monotonic_us()

    def join(self, start_us: int) -> Pace:
        return _RealPace()


class _RealPace:
    def wait_until(self, timestamp_us: int, stop: threading.Event) -> bool:
        delay = timestamp_us - monotonic_us()
        if delay > 0:
            return not stop.wait(delay / 1_000_000)
        return not stop.is_set()

    def leave(self) -> None:
        pass


class VirtualClock:
    """Virtual µs shared by several sources; ``now_us`` is the slowest running source."""

    waits_for_consumer = True

    def __init__(self, start_us: int | None = None, max_lead_us: int = 500_000) -> None:
        self.anchor_us: int | None = None
        self.max_lead_us = max_lead_us
        self._present = monotonic_us() if start_us is None else start_us
        self._positions: dict[int, int] = {}
        self._ids = itertools.count()
        self._changed = threading.Condition()

    def now_us(self) -> int:
        with self._changed:
            return min(self._positions.values(), default=self._present)

    def join(self, start_us: int) -> Pace:
        with self._changed:
            token = next(self._ids)
            self._positions[token] = start_us
            self._changed.notify_all()
        return _VirtualPace(self, token)

    def _advance(self, token: int, timestamp_us: int, stop: threading.Event) -> bool:
        with self._changed:
            while not stop.is_set():
                others = [p for t, p in self._positions.items() if t != token]
                if not others or timestamp_us <= min(others) + self.max_lead_us:
                    self._positions[token] = timestamp_us
                    self._present = max(self._present, timestamp_us)
                    self._changed.notify_all()
                    return True
                # Short timeout: ``stop`` is an Event, which cannot wake this Condition.
                self._changed.wait(0.05)
            return False

    def _leave(self, token: int) -> None:
        with self._changed:
            self._positions.pop(token, None)
            self._changed.notify_all()


class _VirtualPace:
    def __init__(self, clock: VirtualClock, token: int) -> None:
        self._clock = clock
        self._token = token

    def wait_until(self, timestamp_us: int, stop: threading.Event) -> bool:
        return self._clock._advance(self._token, timestamp_us, stop)

    def leave(self) -> None:
        self._clock._leave(self._token)
