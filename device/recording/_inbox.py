"""The hand-off from the source threads to the mux thread: bounded, and woken on data.

The camera and the microphone each call ``put`` on their own thread, ~80 times a second
together; waking the mux thread for every one of them costs a thread switch (and a GIL
hand-off) each. So a ``put`` only wakes a sleeping consumer once the items that matter
have added up to ``wake_weight`` (the recorder weighs a video frame 1 and a sound block
0: the merger cannot release sound before the picture reaches it anyway), and ``take``
then returns everything queued in one go. A consumer that finds items waiting never
sleeps at all, so a source that delivers as fast as possible is never held back by a
timer; the timeout of ``take`` only bounds how late the consumer's own checks run.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    def __init__(self, capacity: int, wake_weight: int = 1) -> None:
        self._items: deque[T] = deque()
        self._capacity = capacity
        self._wake_weight = wake_weight
        self._weight = 0  # weight put since the consumer last took
        self._asleep = False
        self._wake = threading.Event()

    def put(self, item: T, weight: int = 1) -> None:
        """Never blocks: a full inbox raises ``queue.Full`` (the source counts a drop)."""
        if len(self._items) >= self._capacity:
            raise queue.Full
        self._items.append(item)  # deque.append is atomic: no lock on the hot path
        if weight:
            self._weight += weight
            if self._asleep and self._weight >= self._wake_weight:
                self._wake.set()

    def wake(self) -> None:
        """Wake the consumer now (to stop, say)."""
        self._wake.set()

    def take(self, timeout: float) -> list[T]:
        """Everything queued; when too little is, first sleep until enough weight has
        arrived, ``wake`` is called or ``timeout`` seconds pass."""
        if self._weight < self._wake_weight:
            self._asleep = True
            # Checked again after saying so: a put in between either saw ``_asleep`` (and
            # sets the event) or added its weight before this check (and we do not wait).
            if self._weight < self._wake_weight:
                self._wake.wait(timeout)
            self._asleep = False
            self._wake.clear()
        self._weight = 0
        return self.drain()

    def drain(self) -> list[T]:
        """Everything queued now, without waiting."""
        items = self._items
        return [items.popleft() for _ in range(len(items))]

    def __len__(self) -> int:
        return len(self._items)
