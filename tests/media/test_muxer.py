"""The muxer's output as a player sees it: streams, durations, keyframes, sync, damage."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from device.errors import MuxerError
from device.hardware.synthetic import FLASH_PERIOD_US, encode_pattern, read_frame_number
from device.media import IndexingWriter, Mp4Muxer, scan_file
from device.media.packets import AudioBlock, EncodedFrame
from tests.media.media_helpers import Recording, WriteOnly, ffprobe, record
from tests.mediacheck import click_onsets, flash_times


def _packets(data: bytes, stream: str) -> list[dict[str, str]]:
    args = ("-show_entries", "packet=pts_time,duration_time,flags", "-select_streams", stream)
    packets: list[dict[str, str]] = ffprobe(data, *args)["packets"]
    return packets


def _end_s(data: bytes, stream: str) -> float:
    last = _packets(data, stream)[-1]
    return float(last["pts_time"]) + float(last["duration_time"])


def _luma(frame: av.VideoFrame) -> np.ndarray:
    return frame.to_ndarray()[: frame.height]


def test_streams_and_duration(five_seconds: Recording) -> None:
    streams = ffprobe(five_seconds.data, "-show_streams")["streams"]
    assert [s["codec_name"] for s in streams] == ["h264", "aac"]
    assert streams[0]["width"] == 320 and streams[1]["sample_rate"] == "48000"
    assert _end_s(five_seconds.data, "v") == pytest.approx(5.0, abs=0.1)
    assert _end_s(five_seconds.data, "a") == pytest.approx(5.0, abs=0.1)


def test_one_keyframe_and_one_fragment_per_second(five_seconds: Recording) -> None:
    packets = _packets(five_seconds.data, "v")
    keyframes = [float(p["pts_time"]) for p in packets if "K" in p["flags"]]
    assert len(packets) == 150
    assert np.diff(keyframes) == pytest.approx([1.0] * 4, abs=0.001)
    assert len(five_seconds.index.fragments) == 5


def test_frame_counter_reads_back(five_seconds: Recording) -> None:
    with av.open(io.BytesIO(five_seconds.data)) as container:
        numbers = [read_frame_number(_luma(f)) for f in container.decode(video=0)]
    assert numbers == list(range(150))


def test_flash_and_click_line_up_at_start(five_seconds: Recording) -> None:
    flashes, clicks = flash_times(five_seconds.data), click_onsets(five_seconds.data)
    assert len(flashes) == len(clicks) == 1
    assert flashes[0] == pytest.approx(1.0, abs=0.05)
    assert abs(flashes[0] - clicks[0]) < 0.040


@pytest.mark.slow
def test_flash_and_click_line_up_after_fifteen_minutes() -> None:
    long = record(15 * 60 + 2, width=320, height=180)
    flashes, clicks = flash_times(long.data), click_onsets(long.data)
    assert len(flashes) == len(clicks) == 91  # 1 s, 11 s, … 901 s
    assert flashes[-1] == pytest.approx(901.0, abs=0.05)
    assert max(abs(f - c) for f, c in zip(flashes, clicks, strict=True)) < 0.040
    assert np.diff(flashes) == pytest.approx([FLASH_PERIOD_US / 1e6] * 90, abs=0.001)


def test_truncated_stream_plays_every_complete_fragment(five_seconds: Recording) -> None:
    data, index = five_seconds.data, five_seconds.index
    rng = np.random.default_rng(1)
    for cut in [index.init_size + 10, *rng.integers(index.init_size, len(data), 4)]:
        partial = data[:cut]
        complete = [f for f in index.fragments if f.offset + f.size <= cut]
        assert scan_file(io.BytesIO(partial)).fragments == complete
        assert ffprobe(partial, "-show_streams")["streams"][0]["codec_name"] == "h264"
        assert _decodable_frames(partial) >= 30 * len(complete)


def _decodable_frames(data: bytes) -> int:
    """Frames decoded until the first damaged packet (a cut-off one at the end)."""
    frames = 0
    with av.open(io.BytesIO(data)) as container:
        for packet in container.demux(video=0):
            try:
                frames += len(packet.decode())
            except av.InvalidDataError:
                break
    return frames


def test_mic_unplugged_midway_leaves_valid_file_with_shorter_audio() -> None:
    take = record(4.0, unplug_at_s=2.0)
    assert take.mic is not None and take.mic.failed == "the microphone was unplugged"
    assert take.muxer.video_frames == 120
    assert _end_s(take.data, "v") == pytest.approx(4.0, abs=0.1)
    assert 1.9 < _end_s(take.data, "a") < 2.6
    assert len(scan_file(io.BytesIO(take.data)).fragments) == 4


def test_without_audio() -> None:
    take = record(3.0, audio=False)
    streams = ffprobe(take.data, "-show_streams")["streams"]
    assert [s["codec_name"] for s in streams] == ["h264"]
    assert _end_s(take.data, "v") == pytest.approx(3.0, abs=0.05)
    assert [t.kind for t in take.index.tracks] == ["video"]


def test_never_seeks(five_seconds: Recording) -> None:
    assert five_seconds.out.seeks == []


@pytest.mark.parametrize("audio", [False, True])
def test_each_fragment_reaches_the_writer_within_its_second(audio: bool) -> None:
    """With the mic silent (dead), FFmpeg's interleaver holds video back only ~0.5 s."""
    units = encode_pattern(320, 180, 30, 300_000, seconds=1) * 4
    writer = IndexingWriter(WriteOnly())
    muxer = Mp4Muxer(writer, width=320, height=180, fps=30, audio=audio)
    for n, unit in enumerate(units):
        muxer.add_video(EncodedFrame(unit.data, unit.keyframe, n * 33_333))
        if n % 30 == 20 and n > 30:  # a keyframe 20 frames ago closed a fragment
            assert len(writer.index.fragments) == n // 30
    muxer.close()
    assert len(writer.index.fragments) == 4


def test_bad_timestamps_are_dropped_and_counted() -> None:
    units = encode_pattern(320, 180, 30, 300_000, seconds=1)
    muxer = Mp4Muxer(WriteOnly(), width=320, height=180, fps=30, audio=True)
    muxer.add_video(EncodedFrame(units[1].data, False, 0))  # before any keyframe
    for n, unit in enumerate(units):
        muxer.add_video(EncodedFrame(unit.data, unit.keyframe, 1_000 + n * 33_333))
        if n == 5:
            muxer.add_video(EncodedFrame(unit.data, unit.keyframe, 1_000 + n * 33_333))
            muxer.add_video(EncodedFrame(unit.data, unit.keyframe, 1_000))
    tone = np.zeros(1024, np.int16)
    muxer.add_audio(AudioBlock(tone, 1_000))
    muxer.add_audio(AudioBlock(tone, 1_000))  # the same block again
    muxer.close()
    assert (muxer.video_frames, muxer.dropped_video, muxer.dropped_audio) == (30, 3, 1)


def test_closing_before_any_keyframe_says_nothing_was_recorded() -> None:
    muxer = Mp4Muxer(WriteOnly(), width=320, height=180, fps=30)
    with pytest.raises(MuxerError, match="no keyframe"):
        muxer.close()
    with pytest.raises(MuxerError, match="already closed"):
        muxer.add_video(EncodedFrame(b"", True, 0))


def test_the_film_starts_at_its_first_keyframe_with_the_sound_reaching_into_it() -> None:
    """The one keyframe and early-sound gate: frames before the first keyframe are
    dropped, sound before it is held, and only the sound reaching into it is kept."""
    units = encode_pattern(320, 180, 30, 300_000, seconds=1)
    out = WriteOnly()
    muxer = Mp4Muxer(out, width=320, height=180, fps=30, audio=True)
    block_us = 1024 * 1_000_000 // 48_000
    blocks = [AudioBlock(np.full(1024, 1000, np.int16), n * block_us) for n in range(95)]
    muxer.add_video(EncodedFrame(units[1].data, False, 0))  # the camera's run-up
    for block in blocks[:47]:  # 0 … 1.003 s: the last one reaches into the first picture
        muxer.add_audio(block)
    assert muxer.started_us is None
    for n, unit in enumerate(units):
        muxer.add_video(EncodedFrame(unit.data, unit.keyframe, 1_000_000 + n * 33_333))
        assert muxer.started_us == 1_000_000
    for block in blocks[47:]:
        muxer.add_audio(block)
    muxer.close()
    data = out.getvalue()
    assert (muxer.video_frames, muxer.dropped_video, muxer.dropped_audio) == (30, 1, 0)
    assert float(_packets(data, "a")[0]["pts_time"]) == pytest.approx(0.0, abs=0.03)
    assert _end_s(data, "a") == pytest.approx(1.03, abs=0.05)  # 95 blocks end at 2.027 s
