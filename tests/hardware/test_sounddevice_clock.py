"""SampleClock against simulated microphones whose crystal is off, with jittery or bursty
delivery: timestamps must follow the true sample times without ever stepping back."""

from __future__ import annotations

import numpy as np
import pytest

from device.hardware.audio_clock import SampleClock

RATE = 48_000
BLOCK = 960


def simulate(
    ppm: float, seconds: float, *, burst_s: float = 0.0, seed: int = 1
) -> tuple[np.ndarray, np.ndarray, SampleClock]:
    """Stamp ``seconds`` of blocks from a mic running ``ppm`` slow; return (stamps µs,
    true times µs of each block's first sample, clock)."""
    rng = np.random.default_rng(seed)
    start_us = 5_000_000
    true_period_us = 1e6 / RATE * (1 + ppm / 1e6)
    clock = SampleClock(start_us=start_us, nominal_rate=RATE)
    stamps, truth = [], []
    arrival = 0.0
    for k in range(int(seconds * RATE / BLOCK)):
        first, end = k * BLOCK, (k + 1) * BLOCK
        ready_us = start_us + end * true_period_us  # the block's last sample exists
        if burst_s:  # delivered in bursts, as PulseAudio's fake sources do
            burst_us = burst_s * 1e6
            ready_us = np.ceil((ready_us - start_us) / burst_us) * burst_us + start_us
        # Latency plus one-sided jitter; callbacks come in order, so a late one delays the next.
        arrival = max(arrival, ready_us + 3_000 + rng.exponential(4_000))
        stamps.append(clock.stamp(BLOCK, int(arrival)))
        truth.append(start_us + first * true_period_us)
    return np.array(stamps, float), np.array(truth), clock


@pytest.mark.parametrize("ppm", [0.0, 300.0, -500.0])
@pytest.mark.parametrize("burst_s", [0.0, 2.0], ids=["steady", "bursty"])
def test_timestamps_follow_the_mics_true_rate(ppm: float, burst_s: float) -> None:
    stamps, truth, clock = simulate(ppm, 600.0, burst_s=burst_s)
    steps = np.diff(stamps)
    assert (steps > 0).all()  # never backwards, never stuck
    nominal = BLOCK * 1e6 / RATE
    assert np.abs(steps - nominal).max() <= nominal * 0.0021  # gradual: within 2100 ppm
    # Uncorrected, 500 ppm is 300 ms after ten minutes. Corrected: a few ms, or about one
    # block when bursts hide where blocks really end (lip sync tolerates ~45 ms).
    error_ms = np.abs(stamps - truth)[-1000:] / 1000
    assert error_ms.max() < (25.0 if burst_s else 5.0), error_ms.max()
    assert clock.rate_ppm == pytest.approx(ppm, abs=100 if burst_s else 20)


def test_a_short_recording_is_plain_sample_counting() -> None:
    stamps, _, clock = simulate(300.0, 10.0)
    expected = 5_000_000 + np.arange(len(stamps)) * BLOCK * 1e6 / RATE
    assert np.abs(stamps - expected).max() <= 1
    assert clock.rate_ppm == 0.0


def test_behind_measures_silence_beyond_the_first_latency() -> None:
    clock = SampleClock(start_us=0, nominal_rate=RATE)
    assert clock.behind_us(10_000_000) == 0.0  # nothing yet: the caller's start grace applies
    clock.stamp(BLOCK, 40_000)  # 20 ms of sound, seen 20 ms late
    assert clock.behind_us(40_000) == pytest.approx(0.0, abs=1)
    assert clock.behind_us(1_040_000) == pytest.approx(1_000_000, abs=1)
