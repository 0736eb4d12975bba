"""The merger puts camera and microphone packets into one timestamp order."""

from __future__ import annotations

from device.recording._merge import Merger


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_releases_in_timestamp_order_once_both_streams_have_passed() -> None:
    clock = FakeClock()
    m: Merger[str] = Merger(["video", "audio"], patience=1.0, clock=clock)
    m.push("video", 0, "v0")
    m.push("video", 33_000, "v1")
    assert m.pop_ready() == []  # audio has said nothing yet
    m.push("audio", 10_000, "a0")
    assert m.pop_ready() == [("video", "v0"), ("audio", "a0")]
    m.push("audio", 40_000, "a1")
    assert m.pop_ready() == [("video", "v1")]  # a1 waits: video has not reached 40 ms
    assert m.drain() == [("audio", "a1")]


def test_a_quiet_stream_is_not_waited_for_after_its_patience() -> None:
    clock = FakeClock()
    m: Merger[str] = Merger(["video", "audio"], patience=1.0, clock=clock)
    m.push("audio", 0, "a0")
    m.push("video", 5, "v0")
    clock.now = 0.5
    m.push("video", 100_000, "v1")
    assert [i for _, i in m.pop_ready()] == ["a0"]
    clock.now = 1.2  # audio quiet for 1.2 s: the microphone went away
    assert [i for _, i in m.pop_ready()] == ["v0", "v1"]


def test_an_ended_stream_is_not_waited_for() -> None:
    m: Merger[str] = Merger(["video", "audio"], clock=FakeClock())
    m.push("video", 1, "v")
    m.end("audio")
    assert m.pop_ready() == [("video", "v")]
    assert len(m) == 0


def test_a_block_that_reaches_past_a_frame_releases_it() -> None:
    """A 100 ms sound block stamped 0 covers 0–100 ms: a frame at 50 ms need not wait for
    the next block, which starts at 100 ms."""
    m: Merger[str] = Merger(["video", "audio"], clock=FakeClock())
    m.push("video", 50_000, "v0")
    m.push("video", 150_000, "v1")
    m.push("audio", 0, "a0", until=100_000)
    assert m.pop_ready() == [("audio", "a0"), ("video", "v0")]  # v1 waits for more sound
    m.push("audio", 100_000, "a1", until=200_000)
    assert m.pop_ready() == [("audio", "a1"), ("video", "v1")]
