"""The synthetic camera and microphone behave like the hardware and fail on demand."""

from __future__ import annotations

import math
import queue
import threading
import time

import av
import numpy as np
import pytest

from device.errors import CameraError, MicrophoneError
from device.hardware.base import Camera, Microphone
from device.hardware.monotonic import monotonic_us
from device.hardware.synthetic import (
    FLASH_FIRST_US,
    ReplayCamera,
    SyntheticCamera,
    SyntheticMicrophone,
    VirtualClock,
    encode_pattern,
    flash_offsets_us,
    is_flash_frame,
    read_frame_number,
)
from device.media.annexb import NAL_PPS, NAL_SPS, nal_type, split_nal_units
from device.media.packets import AudioBlock, EncodedFrame


def _collect(camera: Camera, seconds: float) -> list[EncodedFrame]:
    frames: list[EncodedFrame] = []
    camera.start_encoding(frames.append)
    time.sleep(seconds)
    camera.stop_encoding()
    return frames


def _decode(units: list[EncodedFrame]) -> list[np.ndarray]:
    codec = av.CodecContext.create("h264", "r")
    pictures = []
    for unit in units:
        for frame in codec.decode(av.Packet(unit.data)):
            pictures.append(frame.to_ndarray()[: frame.height])
    return pictures


def test_adapters_implement_the_protocols() -> None:
    assert isinstance(SyntheticCamera(), Camera)
    assert isinstance(
        ReplayCamera(encode_pattern(320, 180, 30, 200_000, 1), width=320, height=180, fps=30),
        Camera,
    )
    assert isinstance(SyntheticMicrophone(), Microphone)


def test_real_time_camera_paces_frames_on_the_monotonic_clock() -> None:
    camera = SyntheticCamera(320, 180, 30)
    camera.open()
    before = monotonic_us()
    frames = _collect(camera, 1.0)
    camera.close()
    assert 25 <= len(frames) <= 32
    assert frames[0].keyframe and [f.keyframe for f in frames].count(True) == 1 + (len(frames) > 30)
    assert before <= frames[0].timestamp_us <= before + 100_000
    assert set(np.diff([f.timestamp_us for f in frames])) <= {33_333, 33_334}


def test_access_units_are_annex_b_with_headers_on_every_keyframe() -> None:
    units = encode_pattern(320, 180, 30, 300_000, seconds=3)
    keyframes = [n for n, u in enumerate(units) if u.keyframe]
    assert keyframes == [0, 30, 60]
    for unit in units:
        types = {nal_type(n) for n in split_nal_units(unit.data)}
        assert unit.data.startswith(b"\x00\x00\x00\x01") or unit.data.startswith(b"\x00\x00\x01")
        assert ({NAL_SPS, NAL_PPS} <= types) == unit.keyframe


@pytest.mark.parametrize(("width", "height"), [(320, 180), (1920, 1080)])
def test_frame_counter_and_flash_survive_encoding(width: int, height: int) -> None:
    units = encode_pattern(width, height, 30, round(width * height * 30 * 0.13), seconds=2)
    pictures = _decode(units)
    assert [read_frame_number(p) for p in pictures] == list(range(60))
    flashes = [n for n, p in enumerate(pictures) if p.mean() > 200]
    assert flashes == [30] == [n for n in range(60) if is_flash_frame(n, 30)]


def test_preview_is_a_small_jpeg_after_open() -> None:
    camera = SyntheticCamera(640, 360, 30)
    assert camera.preview_jpeg() is None
    camera.open()
    deadline = time.monotonic() + 2
    while camera.preview_jpeg() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    jpeg = camera.preview_jpeg()
    camera.close()
    assert jpeg is not None and jpeg.startswith(b"\xff\xd8") and jpeg.endswith(b"\xff\xd9")
    with av.open(__import__("io").BytesIO(jpeg)) as container:
        picture = next(container.decode(video=0))
    assert (picture.width, picture.height) == (320, 180)


def test_refused_frames_are_counted_and_stop_means_stop() -> None:
    camera = SyntheticCamera(320, 180, 30)  # real time: a full queue drops, as hardware does
    calls: list[int] = []
    stopped = threading.Event()

    def full_sink(frame: EncodedFrame) -> None:
        assert not stopped.is_set(), "sink called after stop_encoding returned"
        calls.append(1)
        raise queue.Full

    camera.open()
    camera.start_encoding(full_sink)
    time.sleep(0.2)
    camera.stop_encoding()
    stopped.set()
    time.sleep(0.05)
    camera.close()
    assert camera.dropped_frames == len(calls) > 3


def test_in_virtual_time_a_full_queue_waits_instead_of_dropping() -> None:
    camera = SyntheticCamera(320, 180, 30, clock=VirtualClock())
    taken: list[int] = []
    refusals = 0

    def slow_sink(frame: EncodedFrame) -> None:
        nonlocal refusals
        if refusals < 20 and len(taken) == 5:
            refusals += 1
            raise queue.Full
        taken.append(frame.timestamp_us)

    camera.open()
    camera.start_encoding(slow_sink)
    time.sleep(0.5)
    camera.stop_encoding()
    camera.close()
    assert camera.dropped_frames == 0 and refusals == 20
    gaps = np.diff(taken[:10])
    assert ((gaps >= 33_333) & (gaps <= 33_334)).all()  # frame 5 offered again, none skipped


def test_fake_stall_pauses_frames() -> None:
    camera = SyntheticCamera(320, 180, 30)
    arrivals: list[int] = []
    camera.open()
    camera.start_encoding(lambda f: arrivals.append(monotonic_us()))
    time.sleep(0.3)
    camera.trigger_fake_stall(0.6)
    time.sleep(1.0)
    camera.close()
    assert max(np.diff(arrivals)) >= 550_000
    assert arrivals[-1] > monotonic_us() - 300_000  # frames came back after the stall


def test_fake_failure_stops_frames_until_reopened() -> None:
    camera = SyntheticCamera(320, 180, 30, clock=VirtualClock())
    camera.open()
    camera.trigger_fake_failure()
    assert _collect(camera, 0.1) == []
    camera.close()
    camera.open()
    assert len(_collect(camera, 0.1)) > 0
    camera.trigger_fake_failure(permanent=True)
    camera.close()
    with pytest.raises(CameraError, match="does not answer"):
        camera.open()


def test_real_time_microphone_blocks_and_level() -> None:
    mic = SyntheticMicrophone()
    blocks: list[AudioBlock] = []
    start = monotonic_us()
    mic.start(blocks.append, start)
    time.sleep(0.5)
    mic.stop()
    assert 18 <= len(blocks) <= 24
    assert all(b.samples.dtype == np.int16 and b.samples.size == 1024 for b in blocks)
    assert [b.timestamp_us for b in blocks] == [
        start + round(n * 1024 * 1e6 / 48_000) for n in range(len(blocks))
    ]
    assert mic.level_dbfs == pytest.approx(-30, abs=0.5)
    assert mic.failed is None


def test_unplug_stops_the_microphone_with_a_reason() -> None:
    mic = SyntheticMicrophone(clock=VirtualClock())
    blocks: list[AudioBlock] = []
    mic.start(blocks.append, 0)
    time.sleep(0.05)
    mic.trigger_fake_unplug()
    time.sleep(0.05)
    count = len(blocks)
    time.sleep(0.05)
    assert mic.failed == "the microphone was unplugged" and len(blocks) == count
    mic.stop()


def test_click_onset_is_the_flash_instant() -> None:
    mic = SyntheticMicrophone()
    mic.clock.anchor_us = 1_000_000
    start_us = 1_000_000 - 250_000  # the microphone started before the camera
    onset = round((FLASH_FIRST_US + 250_000) * 48_000 / 1e6)
    block = mic.render(onset - 500, start_us)
    loud = np.nonzero(np.abs(block) > 10_000)[0]
    assert loud[0] == 500
    assert list(flash_offsets_us(0, 25_000_000)) == [1_000_000, 11_000_000, 21_000_000]


def test_shared_virtual_clock_keeps_sources_within_half_a_second() -> None:
    clock = VirtualClock()
    camera = SyntheticCamera(320, 180, 30, clock=clock)
    mic = SyntheticMicrophone(clock=clock)
    latest = {"video": 0, "audio": 0}
    spread: list[int] = []
    stopping = threading.Event()  # once the camera leaves, the mic may run on alone

    def track(kind: str, timestamp_us: int) -> None:
        latest[kind] = timestamp_us
        if latest["video"] and latest["audio"] and not stopping.is_set():
            spread.append(abs(latest["video"] - latest["audio"]))

    camera.start_encoding(lambda f: track("video", f.timestamp_us))
    assert clock.anchor_us is not None
    mic.start(lambda b: track("audio", b.timestamp_us), clock.anchor_us)
    time.sleep(1.0)
    stopping.set()
    camera.stop_encoding()
    mic.stop()
    assert latest["video"] - clock.anchor_us > 5_000_000  # far faster than real time
    assert max(spread) <= 500_000 + 2 * 33_334


def test_replay_camera_loops_access_units_with_virtual_timestamps() -> None:
    units = encode_pattern(320, 180, 30, 200_000, seconds=1)
    camera = ReplayCamera(units, width=320, height=180, fps=30)
    frames = _collect(camera, 0.2)
    assert len(frames) > 90
    assert [f.data for f in frames[:60]] == [u.data for u in units] * 2
    assert [f.keyframe for f in frames[:31]] == [True] + [False] * 29 + [True]
    assert np.diff([f.timestamp_us for f in frames]).max() <= 33_334


def test_an_open_microphone_meters_between_takes() -> None:
    mic = SyntheticMicrophone()
    mic.open()
    try:
        time.sleep(0.15)
        assert mic.level_dbfs == pytest.approx(-30, abs=0.5)  # listening, nothing delivered
        blocks: list[AudioBlock] = []
        mic.start(blocks.append, monotonic_us())
        deadline = time.monotonic() + 2
        while len(blocks) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        mic.stop()
        count = len(blocks)
        assert count >= 3
        mic.trigger_fake_unplug()  # while idle
        deadline = time.monotonic() + 2
        while mic.failed is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert mic.failed == "the microphone was unplugged"
        assert mic.level_dbfs == -math.inf and len(blocks) == count
        mic.open()  # plugged back in: listening again
        time.sleep(0.15)
        assert mic.failed is None and mic.level_dbfs == pytest.approx(-30, abs=0.5)
        mic.trigger_fake_unplug(permanent=True)
        mic.close()
        with pytest.raises(MicrophoneError):
            mic.open()
        mic.trigger_fake_replug()
        mic.open()
    finally:
        mic.close()
    assert mic.level_dbfs == -math.inf
    assert mic._thread is None and mic._monitor is None  # no thread of its own left


def test_a_fake_overflow_loses_blocks_and_counts_them() -> None:
    mic = SyntheticMicrophone(clock=VirtualClock())
    blocks: list[AudioBlock] = []
    mic.trigger_fake_overflow(2)
    mic.start(blocks.append, 0)
    time.sleep(0.05)
    mic.stop()
    assert mic.overflows == 2
    assert blocks[0].timestamp_us == round(2 * 1024 * 1e6 / 48_000)  # time went on


def test_a_lone_source_in_virtual_time_stops_when_told() -> None:
    """With the camera gone, the microphone runs alone as fast as it can; stopping it must
    end its thread at once, not leave it rendering sound forever (it once did, and every
    closed kit left one such thread spinning)."""
    mic = SyntheticMicrophone(clock=VirtualClock())
    mic.start(lambda block: None, start_us=0)
    time.sleep(0.1)
    began = time.monotonic()
    mic.stop()
    assert time.monotonic() - began < 1.0
    assert not [t for t in threading.enumerate() if t.name == "synthetic-mic"]
