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
import queue
import threading
from collections.abc import Callable
from typing import Protocol, TypeVar

from device.hardware.monotonic import monotonic_us


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
    """Virtual µs shared by several sources; ``now_us`` is the slowest running source.

    A source that gets ``max_lead_us`` ahead waits until the slowest has caught up to
    within ``max_lead_us - resume_lag_us`` of it, then runs freely again: it produces in
    batches of about ``resume_lag_us`` instead of one unit per step of the slowest, so a
    consumer pacing the sources wakes them a few times a second, not once per unit. Only a
    waiter whose condition has come true is woken.
    """

    waits_for_consumer = True

    def __init__(
        self,
        start_us: int | None = None,
        max_lead_us: int = 500_000,
        resume_lag_us: int | None = None,
    ) -> None:
        self.anchor_us: int | None = None
        self.max_lead_us = max_lead_us
        self.resume_lag_us = max_lead_us // 2 if resume_lag_us is None else resume_lag_us
        self._present = monotonic_us() if start_us is None else start_us
        self._positions: dict[int, int] = {}
        self._waiting: dict[int, tuple[int, threading.Event]] = {}  # token: (need, wake)
        self._ids = itertools.count()
        self._lock = threading.Lock()

    def now_us(self) -> int:
        with self._lock:
            return min(self._positions.values(), default=self._present)

    def join(self, start_us: int) -> Pace:
        with self._lock:
            token = next(self._ids)
            self._positions[token] = start_us
        return _VirtualPace(self, token)

    def _slowest_other(self, token: int) -> int | None:
        return min((p for t, p in self._positions.items() if t != token), default=None)

    def _advance(self, token: int, timestamp_us: int, stop: threading.Event) -> bool:
        with self._lock:
            slowest = self._slowest_other(token)
            if slowest is not None and timestamp_us > slowest + self.max_lead_us:
                # too far ahead: wait until the others are within the resume lag of us
                wake = threading.Event()
                need = timestamp_us - self.max_lead_us + self.resume_lag_us
                self._waiting[token] = (need, wake)
            else:
                self._move(token, timestamp_us)
                return not stop.is_set()  # a source running alone must still stop when told
        while not wake.wait(0.05):  # short timeout: ``stop`` cannot wake this Event
            if stop.is_set():
                with self._lock:
                    self._waiting.pop(token, None)
                return False
        with self._lock:
            self._move(token, timestamp_us)
        return not stop.is_set()

    def _move(self, token: int, timestamp_us: int) -> None:
        """Set a position (lock held) and wake every waiter it lets go."""
        self._positions[token] = timestamp_us
        self._present = max(self._present, timestamp_us)
        self._release()

    def _release(self) -> None:
        for other, (need, wake) in list(self._waiting.items()):
            slowest = self._slowest_other(other)
            if slowest is None or slowest >= need:
                del self._waiting[other]
                wake.set()

    def _leave(self, token: int) -> None:
        with self._lock:
            self._positions.pop(token, None)
            self._waiting.pop(token, None)
            self._release()


class _VirtualPace:
    def __init__(self, clock: VirtualClock, token: int) -> None:
        self._clock = clock
        self._token = token

    def wait_until(self, timestamp_us: int, stop: threading.Event) -> bool:
        return self._clock._advance(self._token, timestamp_us, stop)

    def leave(self) -> None:
        self._clock._leave(self._token)


T = TypeVar("T")


def hand_over(
    item: T,
    *,
    lock: threading.Lock,
    sink: Callable[[], Callable[[T], None] | None],
    clock: SyntheticClock,
    stop: threading.Event,
) -> bool | None:
    """Give ``item`` to the current sink, as a synthetic camera or microphone does.

    True: taken. False: refused by a full hand-off queue and dropped, as real hardware
    would in real time. None: no sink any more, or ``stop`` was set. In virtual time a
    full queue is waited out instead, since that clock waits for its consumer.
    """
    while True:
        with lock:
            current = sink()
            if current is None:
                return None
            try:
                current(item)
                return True
            except queue.Full:
                if not clock.waits_for_consumer:
                    return False
        if stop.wait(0.005):
            return None
