"""Sound blocks are joined into ~100 ms ones before the mux thread, without moving a
single sample off the timestamp its microphone gave it."""

from __future__ import annotations

import queue

import numpy as np
import pytest

from device.media.packets import AudioBlock
from device.recording._gather import SoundGatherer

RATE, BLOCK = 48_000, 960  # 20 ms


def _block(n: int, at_us: int) -> AudioBlock:
    return AudioBlock(np.arange(n * BLOCK, (n + 1) * BLOCK, dtype=np.int64).astype(np.int16), at_us)


def test_back_to_back_blocks_become_100_ms_blocks_with_every_sample_in_order() -> None:
    out: list[AudioBlock] = []
    gather = SoundGatherer(RATE, out.append)
    for n in range(12):  # 240 ms
        gather.add(_block(n, 5_000_000 + n * 20_000))
    assert [len(b.samples) for b in out] == [4800, 4800]
    assert [b.timestamp_us for b in out] == [5_000_000, 5_100_000]
    gather.flush()
    assert [len(b.samples) for b in out] == [4800, 4800, 1920]
    assert out[2].timestamp_us == 5_200_000
    joined = np.concatenate([b.samples for b in out])
    expected = np.concatenate([_block(n, 0).samples for n in range(12)])
    assert np.array_equal(joined, expected)
    gather.flush()  # nothing held: nothing sent
    assert len(out) == 3


def test_a_gap_or_a_step_sends_what_was_held_first() -> None:
    out: list[AudioBlock] = []
    gather = SoundGatherer(RATE, out.append)
    gather.add(_block(0, 0))
    gather.add(_block(1, 20_000 + 500))  # drift correction: within 1 ms, continues
    gather.add(_block(2, 80_000))  # an overflow lost ~20 ms: a new block starts
    gather.add(_block(3, 100_000))
    gather.add(_block(4, 60_000))  # a step back: a new block again
    gather.flush()
    assert [(b.timestamp_us, len(b.samples)) for b in out] == [
        (0, 1920),
        (80_000, 1920),
        (60_000, 960),
    ]


def test_a_full_inbox_reaches_the_microphone_as_before() -> None:
    calls: list[int] = []

    def full(block: AudioBlock) -> None:
        calls.append(len(block.samples))
        raise queue.Full

    gather = SoundGatherer(RATE, full)
    for n in range(4):
        gather.add(_block(n, n * 20_000))
    with pytest.raises(queue.Full):  # the microphone counts a dropped block
        gather.add(_block(4, 80_000))
    gather.add(_block(5, 100_000))  # the lost 100 ms are gone: the next block starts afresh
    with pytest.raises(queue.Full):
        gather.flush()
    assert calls == [4800, 960]
