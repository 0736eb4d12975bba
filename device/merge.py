"""Put packets from several live sources into one timestamp order.

The camera and the microphone deliver on their own threads, each in its own order. The
muxer wants them interleaved by time. A packet is released once every other stream has
reached its timestamp — or has ended, or has been quiet for ``patience`` seconds of real
time (a stalled camera or an unplugged microphone must not hold the other one back).
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

    def push(self, stream: str, ts: int, item: T) -> None:
        last = self._last_ts[stream]
        self._last_ts[stream] = ts if last is None else max(ts, last)
        self._last_seen[stream] = self._clock()
        heapq.heappush(self._heap, (ts, next(self._tiebreak), stream, item))

    def end(self, stream: str) -> None:
        """The stream will deliver nothing more (stopped, or its device failed)."""
        self._ended.add(stream)

    def _waiting_for(self, stream: str, ts: int) -> bool:
        """Whether releasing ``ts`` should wait for ``stream`` to catch up."""
        if stream in self._ended:
            return False
        if self._clock() - self._last_seen[stream] > self._patience:
            return False
        last = self._last_ts[stream]
        return last is None or last < ts

    def pop_ready(self) -> list[tuple[str, T]]:
        ready: list[tuple[str, T]] = []
        while self._heap:
            ts, _, stream, item = self._heap[0]
            if any(self._waiting_for(s, ts) for s in self._last_ts if s != stream):
                break
            heapq.heappop(self._heap)
            ready.append((stream, item))
        return ready

    def drain(self) -> list[tuple[str, T]]:
        """Everything still held, in timestamp order (at the end of a recording)."""
        out = [(stream, item) for _, _, stream, item in sorted(self._heap)]
        self._heap.clear()
        return out

    def __len__(self) -> int:
        return len(self._heap)
