"""SoundDeviceMicrophone on a real-time fake microphone (PulseAudio + ALSA file plugin):
real PortAudio, real callbacks, known samples."""

from __future__ import annotations

import math
import os
import signal
import threading
import time

import numpy as np
import pytest

from device.errors import MicrophoneError
from device.hardware.base import Microphone
from device.hardware.monotonic import monotonic_us
from device.hardware.sounddevice_mic import (
    SoundDeviceMicrophone,
    find_input_device,
    list_input_devices,
    peak_dbfs,
)
from device.media.packets import AudioBlock

RATE = 48_000


class Capture:
    """A sink that keeps every block with its arrival time."""

    def __init__(self) -> None:
        self.blocks: list[AudioBlock] = []
        self.arrivals: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, block: AudioBlock) -> None:
        with self.lock:
            self.blocks.append(block)
            self.arrivals.append(time.monotonic())

    def samples(self) -> np.ndarray:
        return np.concatenate([b.samples for b in self.blocks])


def record(device: str, seconds: float) -> tuple[Capture, SoundDeviceMicrophone]:
    mic = SoundDeviceMicrophone(device=device)
    capture = Capture()
    mic.start(capture, start_us=monotonic_us())
    time.sleep(seconds)
    mic.stop()
    return capture, mic


def best_alignment(
    captured: np.ndarray, signal: np.ndarray, slack: int = RATE
) -> tuple[int, float]:
    """(lag, normalized cross-correlation) of ``captured`` within the first ``slack``
    samples of ``signal`` (a fresh capture starts near the file's start), via FFT."""
    a = captured.astype(np.float64)
    b = signal[: len(a) + slack].astype(np.float64)
    n = 1 << (len(a) + len(b)).bit_length()
    corr = np.fft.irfft(np.fft.rfft(b, n) * np.conj(np.fft.rfft(a, n)), n)[: len(b) - len(a) + 1]
    lag = int(np.argmax(corr))
    window = b[lag : lag + len(a)]
    return lag, float(np.dot(a, window) / (np.linalg.norm(a) * np.linalg.norm(window)))


def test_is_a_microphone() -> None:
    assert isinstance(SoundDeviceMicrophone(device=None), Microphone)


def test_captures_the_files_samples_in_real_time(fake_mic) -> None:  # type: ignore[no-untyped-def]
    capture, mic = record(fake_mic.device, 3.0)
    assert mic.failed is None
    assert mic.dropped_blocks == 0
    samples = capture.samples()
    assert len(samples) >= 2 * RATE, f"only {len(samples) / RATE:.2f} s of sound in 3 s"

    lag, ncc = best_alignment(samples, fake_mic.signal)
    assert ncc > 0.9, f"captured sound does not match the file (peak {ncc:.3f} at {lag})"

    # Continuity: each block starts where the previous one ended (20 ms, to the µs).
    stamps = np.array([b.timestamp_us for b in capture.blocks])
    lengths = np.array([len(b.samples) for b in capture.blocks])
    assert (np.diff(stamps) > 0).all()
    assert np.abs(np.diff(stamps) - lengths[:-1] * 1e6 / RATE).max() <= 2

    # Real time: the sound delivered after the first delivery spans as long as the
    # monotonic clock ran meanwhile. (The fake hands over 2 s bursts; a USB mic 20 ms.)
    # The first burst's 100 blocks reach the callback one by one, over up to ~50 ms on a
    # loaded machine, so "first delivery" is all that arrives in its first 0.25 s.
    arrivals = np.array(capture.arrivals)
    later = np.nonzero(arrivals > arrivals[0] + 0.25)[0]
    assert len(later), "the microphone delivered everything at once"
    first_later, last = later[0], len(stamps) - 1
    sound_s = (stamps[last] + lengths[last] * 1e6 / RATE - stamps[first_later]) / 1e6
    elapsed_s = arrivals[last] - arrivals[first_later - 1]
    assert sound_s == pytest.approx(elapsed_s, rel=0.05), (sound_s, elapsed_s)

    assert mic.level_dbfs == pytest.approx(peak_dbfs(capture.blocks[-1].samples))
    assert -30 < mic.level_dbfs <= 0


def test_no_block_after_stop(fake_mic) -> None:  # type: ignore[no-untyped-def]
    capture, _ = record(fake_mic.device, 0.5)
    count = len(capture.blocks)
    time.sleep(0.3)
    assert len(capture.blocks) == count


def test_full_queue_drops_blocks_and_keeps_going(fake_mic) -> None:  # type: ignore[no-untyped-def]
    import queue

    mic = SoundDeviceMicrophone(device=fake_mic.device)
    handoff: queue.Queue[AudioBlock] = queue.Queue(maxsize=5)
    mic.start(handoff.put_nowait, start_us=monotonic_us())
    time.sleep(2.5)
    mic.stop()
    assert handoff.qsize() == 5
    assert mic.dropped_blocks > 0
    assert mic.failed is None


def pulse_pid(mic) -> int:  # type: ignore[no-untyped-def]
    return int(mic.pid)


def wait_for_failure(mic: SoundDeviceMicrophone, timeout: float) -> float:
    """Seconds until ``mic.failed`` was set."""
    began = time.monotonic()
    while mic.failed is None and time.monotonic() < began + timeout:
        time.sleep(0.05)
    return time.monotonic() - began


def test_unplugged_microphone_fails_plainly(unpluggable_mic) -> None:  # type: ignore[no-untyped-def]
    mic = SoundDeviceMicrophone(device=unpluggable_mic.device)
    capture = Capture()
    mic.start(capture, start_us=monotonic_us())
    time.sleep(0.5)
    assert mic.failed is None
    os.kill(pulse_pid(unpluggable_mic), signal.SIGKILL)  # the device vanishes
    wait_for_failure(mic, 5.0)
    assert mic.failed == "the microphone stopped delivering sound (was it unplugged?)"
    count = len(capture.blocks)
    time.sleep(0.3)
    assert len(capture.blocks) == count
    mic.stop()


def test_silent_microphone_is_noticed_by_the_watchdog(unpluggable_mic) -> None:  # type: ignore[no-untyped-def]
    mic = SoundDeviceMicrophone(device=unpluggable_mic.device)
    capture = Capture()
    mic.start(capture, start_us=monotonic_us())
    time.sleep(0.5)
    pid = pulse_pid(unpluggable_mic)
    os.kill(pid, signal.SIGSTOP)  # the device stays, but no sound comes
    try:
        # The fake delivered 2 s ahead in its first burst, so silence shows after ~1.5 s.
        waited = wait_for_failure(mic, 6.0)
        assert mic.failed == "no sound from the microphone for over 1.0 s", waited
        count = len(capture.blocks)
    finally:
        os.kill(pid, signal.SIGCONT)
    time.sleep(0.3)
    assert len(capture.blocks) == count  # the sound that comes back is not delivered
    mic.stop()


def test_devices_are_listed_and_found_by_part_of_their_name(fake_mic) -> None:  # type: ignore[no-untyped-def]
    assert fake_mic.device in list_input_devices()
    index = find_input_device("VIGKIT_FAKE")
    assert index is not None
    assert find_input_device(None) is None


def test_unknown_microphone_names_the_choices(fake_mic) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MicrophoneError) as caught:
        SoundDeviceMicrophone(device="vigkit_fakemik").start(lambda b: None, monotonic_us())
    message = str(caught.value)
    assert "'vigkit_fakemic'" in message
    assert "Did you mean 'vigkit_fakemic'?" in message
    assert caught.value.hint


def test_peak_dbfs() -> None:
    assert peak_dbfs(np.zeros(10, np.int16)) == -math.inf
    assert peak_dbfs(np.array([-32768], np.int16)) == 0.0
    assert peak_dbfs(np.array([16384], np.int16)) == pytest.approx(-6.02, abs=0.01)


# --- listening between recordings ------------------------------------------------------


def wait_until(predicate, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_an_open_microphone_meters_while_idle_and_hands_over_without_a_gap(fake_mic) -> None:  # type: ignore[no-untyped-def]
    mic = SoundDeviceMicrophone(device=fake_mic.device)
    mic.open()
    try:
        assert wait_until(lambda: mic.level_dbfs > -30), "no level while idle"
        stream = mic._stream
        first = Capture()
        mic.start(first, start_us=monotonic_us())
        assert mic._stream is stream  # the running stream was handed over, not reopened
        assert wait_until(lambda: len(first.blocks) >= 5)
        mic.stop()
        assert mic.listening and mic._stream is stream  # back to listening, still open
        count = len(first.blocks)
        time.sleep(0.3)
        assert len(first.blocks) == count  # nothing stored while idle
        level_before = mic.level_dbfs
        assert wait_until(lambda: mic.level_dbfs != level_before), "the meter froze"

        second = Capture()
        mic.start(second, start_us=monotonic_us())
        assert wait_until(lambda: len(second.blocks) >= 5)
        mic.stop()
    finally:
        mic.close()
    assert mic._stream is None and not mic.listening
    assert mic.level_dbfs == -math.inf
    # each take is continuous sound on the one clock that has run since ``open``
    for take in (first, second):
        stamps = np.array([b.timestamp_us for b in take.blocks])
        lengths = np.array([len(b.samples) for b in take.blocks])
        assert np.abs(np.diff(stamps) - lengths[:-1] * 1e6 / RATE).max() <= 2
    assert second.blocks[0].timestamp_us > first.blocks[-1].timestamp_us
    # and it is the fake's sound, from wherever it had got to: found in what it plays
    for take in (first, second):
        _, ncc = best_alignment(take.samples(), fake_mic.signal, slack=len(fake_mic.signal))
        assert ncc > 0.9


def test_a_microphone_that_goes_silent_while_idle_says_so(unpluggable_mic) -> None:  # type: ignore[no-untyped-def]
    """The watchdog runs while idle too. (The device is stopped, not killed: against a
    killed PulseAudio server PortAudio's abort can hang, which a real USB mic does not.)"""
    mic = SoundDeviceMicrophone(device=unpluggable_mic.device)
    mic.open()
    pid = pulse_pid(unpluggable_mic)
    try:
        assert wait_until(lambda: mic.level_dbfs > -30)
        os.kill(pid, signal.SIGSTOP)
        try:
            wait_for_failure(mic, 6.0)
            assert mic.failed == "no sound from the microphone for over 1.0 s"
            assert mic.level_dbfs == -math.inf and not mic.listening
        finally:
            os.kill(pid, signal.SIGCONT)
    finally:
        mic.close()


def test_overflows_are_counted_per_take(fake_mic) -> None:  # type: ignore[no-untyped-def]
    """PortAudio flags an input overflow on the block after sound was lost. The fake
    microphone cannot raise one (PulseAudio does not report them, and a stalled callback
    only trips the silence watchdog), so PortAudio's own flags object, with the overflow
    bit set, is handed to the adapter's callback as PortAudio would."""
    import sounddevice as sd

    mic = SoundDeviceMicrophone(device=fake_mic.device)
    blocks: list[AudioBlock] = []
    mic.open()
    try:
        mic.start(blocks.append, start_us=monotonic_us())
        assert wait_until(lambda: len(blocks) > 0)
        overflowed = sd.CallbackFlags(sd._lib.paInputOverflow)
        assert overflowed.input_overflow
        indata = np.zeros((mic.blocksize, 1), np.int16)
        mic._on_block(indata, mic.blocksize, None, overflowed)
        mic._on_block(indata, mic.blocksize, None, overflowed)
        assert mic.overflows == 2 and mic.failed is None
        mic.stop()
        mic.start(blocks.append, start_us=monotonic_us())
        assert mic.overflows == 0  # counted per take
        mic.stop()
    finally:
        mic.close()
