"""The kit's one clock for media timestamps: CLOCK_MONOTONIC in microseconds.

Wall time may be wrong on a Pi with no real-time clock, so ordering and media timing
never use it; cameras and microphones stamp what they hand over on this clock.
"""

from __future__ import annotations

import time


def monotonic_us() -> int:
    return time.monotonic_ns() // 1000
