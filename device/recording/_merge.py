"""Put packets from several live sources into one timestamp order.

The camera and the microphone deliver on their own threads, each in its own order. The
muxer wants them interleaved by time. A packet is released once every other stream has
reached its timestamp (a sound block reaches its end, not just its first sample) — or
has ended, or has been quiet for ``patience`` seconds of real time (a stalled camera or
an unplugged microphone must not hold the other one back).
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class Merger(Generic[T]):
    def __init__(
        self,
        streams: Iterable[str],
        patience: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._patience = patience
        now = clock()
        self._last_ts: dict[str, int | None] = dict.fromkeys(streams)
        self._last_seen: dict[str, float] = dict.fromkeys(self._last_ts, now)
        self._ended: set[str] = set()
        self._heap: list[tuple[int, int, str, T]] = []
        self._tiebreak = itertools.count()

    def push(self, stream: str, ts: int, item: T, until: int | None = None) -> None:
        """Add ``item`` stamped ``ts``. ``until``: the stream's next item will be stamped no
        earlier than this (a sound block's end), so items before it need not wait for it."""
        reached = ts if until is None else max(ts, until)
        last = self._last_ts[stream]
        self._last_ts[stream] = reached if last is None else max(reached, last)
        self._last_seen[stream] = self._clock()
        heapq.heappush(self._heap, (ts, next(self._tiebreak), stream, item))

    def end(self, stream: str) -> None:
        """The stream will deliver nothing more (stopped, or its device failed)."""
        self._ended.add(stream)

    def _reached(self, stream: str, now: float) -> float:
        """Up to which timestamp ``stream`` no longer holds others back."""
        if stream in self._ended or now - self._last_seen[stream] > self._patience:
            return float("inf")
        last = self._last_ts[stream]
        return float("-inf") if last is None else last

    def pop_ready(self) -> list[tuple[str, T]]:
        if not self._heap:
            return []
        now = self._clock()
        reached = {s: self._reached(s, now) for s in self._last_ts}
        # what each stream's items must not pass: the least that the *other* streams reached
        limit = {
            s: min((r for o, r in reached.items() if o != s), default=float("inf")) for s in reached
        }
        ready: list[tuple[str, T]] = []
        heap = self._heap
        while heap and heap[0][0] <= limit[heap[0][2]]:
            _, _, stream, item = heapq.heappop(heap)
            ready.append((stream, item))
        return ready

    def drain(self) -> list[tuple[str, T]]:
        """Everything still held, in timestamp order (at the end of a recording)."""
        out = [(stream, item) for _, _, stream, item in sorted(self._heap)]
        self._heap.clear()
        return out

    def __len__(self) -> int:
        return len(self._heap)
