"""The kit's one clock for media timestamps: CLOCK_MONOTONIC in microseconds.

Wall time may be wrong on a Pi with no RTC (see DESIGN §8), so ordering and media
timing never use it.
"""

from __future__ import annotations

import time


def monotonic_us() -> int:
    return time.monotonic_ns() // 1000
