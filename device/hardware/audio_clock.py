"""Timestamps for microphone blocks: sample counting that follows the mic's real rate.

A USB microphone's crystal is not the Pi's: "48 kHz" may really be 48 010 Hz, which is
0.75 s of lip-sync error after an hour of counting samples at the nominal rate. So the
clock counts samples from ``start_us`` and slowly learns how fast the mic really runs.

What it learns from: when each block arrives on CLOCK_MONOTONIC (never the stream's own
timestamps, whose clock base differs between ALSA devices and PulseAudio). Arrival
jitter is one-sided — a block can be late, never early — so the clock keeps, per bucket
of a few seconds, the *earliest* arrival relative to the nominal timeline, and fits a
line through those minima over a long window. The slope is the rate error; how far the
line has moved from where it started is the accumulated offset. Sources that deliver in
bursts (PulseAudio's fake sources hand over 2 s at once) only widen the spread above
the minima, which is why buckets must be longer than a burst.

Corrections are applied gradually as a bounded change in the step per sample, so the
timestamps never jump and never go backwards.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

_US = 1_000_000


class SampleClock:
    """Maps blocks of samples to µs timestamps on the monotonic clock."""

    def __init__(
        self,
        *,
        start_us: int,
        nominal_rate: int,
        bucket_s: float = 5.0,
        window_buckets: int = 24,
        min_buckets: int = 4,
        max_ppm: float = 2000.0,
        settle_s: float = 30.0,
    ) -> None:
        self._start_us = start_us
        self._period_us = _US / nominal_rate  # nominal µs per sample
        self._rate = nominal_rate
        self._bucket_us = bucket_s * _US
        self._min_buckets = min_buckets
        self._max_ratio = max_ppm / 1e6
        self._settle_samples = settle_s * nominal_rate
        self._samples = 0
        self._next_us = float(start_us)  # timestamp of the next sample we will hand out
        self._first_arrival_us: int | None = None
        self._first_lateness_us = 0.0
        self._bucket_index = 0
        self._bucket_min: tuple[int, float] | None = None  # (samples at block end, lateness)
        self._minima: deque[tuple[int, float]] = deque(maxlen=window_buckets)
        self._baseline_us: float | None = None
        self._fit: _Line | None = None

    @property
    def samples(self) -> int:
        return self._samples

    @property
    def next_us(self) -> int:
        """Timestamp the next sample will get: where our knowledge of the sound ends."""
        return round(self._next_us)

    @property
    def rate_ppm(self) -> float:
        """The mic's rate error as last estimated (positive: it runs slow), in ppm."""
        return 0.0 if self._fit is None else self._fit.slope / self._period_us * 1e6

    def stamp(self, frames: int, arrival_us: int) -> int:
        """Timestamp of the first sample of ``frames`` samples that arrived at ``arrival_us``."""
        stamp = self._next_us
        end = self._samples + frames
        self._observe(end, arrival_us)
        self._next_us += self._advance_us(frames, end)
        self._samples = end
        return round(stamp)

    def behind_us(self, now_us: int) -> float:
        """How far real time has run past the sound delivered so far, beyond the latency
        seen on the first block: the watchdog's measure of a silent (gone) microphone."""
        if self._first_arrival_us is None:
            return 0.0
        return now_us - self._next_us - max(0.0, self._first_lateness_us)

    # --- learning -----------------------------------------------------------------------

    def _observe(self, end: int, arrival_us: int) -> None:
        lateness = arrival_us - (self._start_us + end * self._period_us)
        if self._first_arrival_us is None:
            self._first_arrival_us = arrival_us
            self._first_lateness_us = lateness
        bucket = int((arrival_us - self._first_arrival_us) // self._bucket_us)
        if bucket > self._bucket_index and self._bucket_min is not None:
            self._minima.append(self._bucket_min)
            self._refit()
            if self._baseline_us is None:
                self._baseline_us = self._bucket_min[1]
            self._bucket_index, self._bucket_min = bucket, None
        if self._bucket_min is None or lateness < self._bucket_min[1]:
            self._bucket_min = (end, lateness)

    def _refit(self) -> None:
        """Least-squares line of lateness per sample through the bucket minima."""
        n = len(self._minima)
        if n < self._min_buckets:
            return
        mean_x = sum(x for x, _ in self._minima) / n
        mean_y = sum(y for _, y in self._minima) / n
        sxx = sum((x - mean_x) ** 2 for x, _ in self._minima)
        if sxx == 0:
            return
        sxy = sum((x - mean_x) * (y - mean_y) for x, y in self._minima)
        limit = self._max_ratio * self._period_us
        self._fit = _Line(mean_x, mean_y, max(-limit, min(limit, sxy / sxx)))

    def _advance_us(self, frames: int, end: int) -> float:
        nominal = frames * self._period_us
        if self._fit is None or self._baseline_us is None:
            return nominal
        # Where sample ``end`` should be: nominal, plus how far the fitted line of minima
        # has moved since the first bucket. Close the gap over ``settle_s``, not at once.
        fit = self._fit
        moved = fit.mean_y + fit.slope * (end - fit.mean_x) - self._baseline_us
        target = self._start_us + end * self._period_us + moved
        step = frames * (self._period_us + fit.slope)
        gap = target - (self._next_us + step)
        advance = step + gap * min(1.0, frames / self._settle_samples)
        low, high = nominal * (1 - self._max_ratio), nominal * (1 + self._max_ratio)
        return max(low, min(high, advance))


@dataclass(frozen=True, slots=True)
class _Line:
    mean_x: float
    mean_y: float
    slope: float  # µs of lateness per sample
