"""The Pi camera's pure parts, tested without picamera2: settings, the frame hand-off
(keyframe wait, drops, clock conversion) and the preview JPEG."""

from __future__ import annotations

import importlib.util
import io
import queue

import av
import numpy as np
import pytest

from device.errors import CameraError
from device.hardware.base import Camera
from device.hardware.camera_handoff import (
    FrameHandoff,
    VideoSettings,
    boottime_minus_monotonic_us,
    yuv420_planes,
    yuv420_to_jpeg,
)
from device.hardware.picamera import PiCamera
from device.media.packets import EncodedFrame


def test_configuration_has_an_encode_stream_and_a_small_preview() -> None:
    config = VideoSettings().configuration()
    assert config["main"] == {"size": (1920, 1080), "format": "YUV420"}
    assert config["lores"] == {"size": (640, 360), "format": "YUV420"}
    assert config["encode"] == "main"
    assert config["controls"]["FrameDurationLimits"] == (33_333, 33_333)


def test_encoder_makes_a_keyframe_every_second_with_headers() -> None:
    assert VideoSettings(fps=25).encoder_arguments() == {
        "bitrate": 8_000_000,
        "repeat": True,
        "iperiod": 25,
    }


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({"width": 3840, "height": 2160}, "beyond 1920x1080"),
        ({"fps": 0}, "frames per second"),
        ({"bitrate": 50_000_000}, "bitrate"),
        ({"preview_size": (1280, 720), "width": 640, "height": 480}, "must fit"),
        ({"preview_size": (641, 361)}, "even"),
    ],
)
def test_impossible_settings_are_refused_in_words(kwargs: dict, complaint: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(CameraError, match=complaint) as caught:
        VideoSettings(**kwargs)
    assert caught.value.hint


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def handoff_with(
    sink: object, *, now: int, offset: int, first: int | None
) -> tuple[FrameHandoff, Clock]:
    clock = Clock(now)
    handoff = FrameHandoff(now_us=clock, sensor_offset_us=lambda: offset)
    handoff.start(sink, lambda: first)  # type: ignore[arg-type]
    return handoff, clock


def test_sensor_time_becomes_monotonic_time() -> None:
    got: list[EncodedFrame] = []
    # Sensor (BOOTTIME) runs 7 s ahead of MONOTONIC; the first frame was exposed 60 ms
    # before it reached us.
    handoff, clock = handoff_with(got.append, now=100_060_000, offset=7_000_000, first=107_000_000)
    handoff.frame(b"\x00\x00\x00\x01key", True, 0)
    clock.now += 33_333
    handoff.frame(memoryview(b"\x00\x00\x00\x01p"), False, 33_333)
    assert [f.timestamp_us for f in got] == [100_000_000, 100_033_333]
    assert got[1] == EncodedFrame(b"\x00\x00\x00\x01p", False, 100_033_333)


@pytest.mark.parametrize("first", [None, 5_000_000, 200_000_000], ids=["absent", "old", "future"])
def test_implausible_sensor_clock_falls_back_to_arrival(first: int | None) -> None:
    got: list[EncodedFrame] = []
    handoff, clock = handoff_with(got.append, now=100_000_000, offset=0, first=first)
    handoff.frame(b"k", True, 0)
    clock.now += 50_000  # arrival jitter does not leak into later timestamps
    handoff.frame(b"p", False, 33_333)
    assert [f.timestamp_us for f in got] == [100_000_000, 100_033_333]


def test_waits_for_a_keyframe() -> None:
    got: list[EncodedFrame] = []
    handoff, _ = handoff_with(got.append, now=10**9, offset=0, first=None)
    handoff.frame(b"p1", False, 0)
    handoff.frame(b"k", True, 33_333)
    handoff.frame(b"p2", False, 66_666)
    assert [f.data for f in got] == [b"k", b"p2"]
    assert got[0].keyframe
    assert handoff.skipped == 1


def test_full_queue_counts_drops_and_never_blocks() -> None:
    handoff_queue: queue.Queue[EncodedFrame] = queue.Queue(maxsize=2)
    handoff, _ = handoff_with(handoff_queue.put_nowait, now=10**9, offset=0, first=None)
    for i in range(5):
        handoff.frame(b"f", True, i * 33_333)
    assert handoff_queue.qsize() == 2
    assert handoff.dropped == 3


def test_no_sink_call_after_stop() -> None:
    got: list[EncodedFrame] = []
    handoff, _ = handoff_with(got.append, now=10**9, offset=0, first=None)
    handoff.frame(b"k", True, 0)
    handoff.stop()
    handoff.frame(b"k", True, 33_333)
    assert len(got) == 1


def test_boottime_is_never_behind_monotonic() -> None:
    assert boottime_minus_monotonic_us() >= -1


def i420_with_stride(width: int, height: int, stride: int) -> np.ndarray:
    """A frame laid out as picamera2 hands YUV420: luma gradient, flat chroma, padding."""
    array = np.full((height * 3 // 2, stride), 7, np.uint8)  # 7: padding must not show
    array[:height, :width] = np.linspace(16, 235, width, dtype=np.uint8)[None, :]
    chroma = array[height:].reshape(-1, stride // 2)
    chroma[: height // 2, : width // 2] = 90  # U
    chroma[height // 2 :, : width // 2] = 200  # V
    return array


def test_yuv420_planes_skip_the_stride_padding() -> None:
    y, u, v = yuv420_planes(i420_with_stride(64, 32, 96), 64, 32)
    assert y.shape == (32, 64) and u.shape == v.shape == (16, 32)
    assert (u == 90).all() and (v == 200).all() and y.min() >= 16


def test_preview_jpeg_decodes_to_the_frame() -> None:
    width, height = 160, 90
    jpeg = yuv420_to_jpeg(i420_with_stride(width, height, 192), width, height, quality=75)
    assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
    with av.open(io.BytesIO(jpeg)) as container:
        frame = next(container.decode(video=0))
    planes = frame.to_ndarray(format="yuv420p")
    assert (frame.width, frame.height) == (width, height)
    expected = i420_with_stride(width, height, 192)[:height, :width].astype(int)
    assert np.abs(planes[:height].astype(int) - expected).mean() < 4
    assert abs(int(planes[height:].reshape(-1, width // 2)[: height // 2].mean()) - 90) < 4


def test_is_a_camera_and_quiet_before_open() -> None:
    camera = PiCamera()
    assert isinstance(camera, Camera)
    assert (camera.width, camera.height, camera.fps) == (1920, 1080, 30)
    assert camera.preview_jpeg() is None
    assert camera.dropped_frames == 0
    camera.stop_encoding()  # harmless when not encoding
    camera.close()


def test_without_picamera2_open_says_what_to_install() -> None:
    if importlib.util.find_spec("picamera2") is not None:
        pytest.skip("picamera2 is installed here: this checks the message elsewhere")
    with pytest.raises(CameraError) as caught:
        PiCamera().open()
    assert "python3-picamera2" in caught.value.hint


def test_preview_quality_trades_size() -> None:
    noisy = np.random.default_rng(0).integers(0, 255, (540, 640), dtype=np.uint8)
    sizes = [len(yuv420_to_jpeg(noisy, 640, 360, quality)) for quality in (20, 75, 95)]
    assert sizes[0] < sizes[1] < sizes[2]
