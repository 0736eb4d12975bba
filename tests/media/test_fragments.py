"""The fragment index: built live from the muxer's bytes, or by scanning a file."""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.errors import MediaFormatError
from device.media import FragmentIndex, FragmentScanner, scan_file
from tests.media.media_helpers import Recording, ffprobe


def test_index_matches_ffprobe_keyframes(five_seconds: Recording) -> None:
    index = five_seconds.index
    video = index.video
    assert video is not None and video.timescale > 0
    packets = ffprobe(
        five_seconds.data, "-select_streams", "v", "-show_entries", "packet=pts_time,flags"
    )["packets"]
    keyframes = [float(p["pts_time"]) for p in packets if "K" in p["flags"]]
    runs = index.video_runs()
    assert [r.start / video.timescale for r in runs] == pytest.approx(keyframes, abs=1e-4)
    assert all(r.keyframe for r in runs)
    assert [r.duration / video.timescale for r in runs] == pytest.approx([1.0] * 5, abs=1e-3)
    assert index.video_duration_s() == pytest.approx(5.0, abs=0.01)


def test_fragments_tile_the_file(five_seconds: Recording) -> None:
    index = five_seconds.index
    assert (index.init_offset, five_seconds.data[4:8]) == (0, b"ftyp")
    at = index.init_offset + index.init_size
    for fragment in index.fragments:
        assert fragment.offset == at
        assert five_seconds.data[at + 4 : at + 8] == b"moof"
        at += fragment.size
    assert [t.kind for t in index.tracks] == ["video", "audio"]


def test_scanning_the_file_gives_the_live_index(five_seconds: Recording) -> None:
    assert scan_file(io.BytesIO(five_seconds.data)) == five_seconds.index


def test_json_round_trip(five_seconds: Recording) -> None:
    text = five_seconds.index.to_json()
    assert FragmentIndex.from_json(text) == five_seconds.index
    samples = sum(len(t.sizes) for t in (five_seconds.index.sample_tables() or {}).values())
    assert samples > 5 * 30
    # compact: the per-sample tables are packed (zlib), a few bytes a sample at most
    assert len(text) < 120 * len(five_seconds.index.fragments) + 4 * samples + 1000


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        '{"v": 99}',
        '{"v": 1, "init": [0]}',
        '{"v": 2, "init": [0, 1], "tracks": [], "fragments": [], "samples": {"1": {}}}',
        '{"v": 2, "init": [0, 1], "tracks": [], "fragments": [], "samples": {"1": '
        '{"offsets": "!!", "counts": "", "starts": "", "sizes": "", "durations": "",'
        ' "cts": "", "sync": ""}}}',
    ],
)
def test_damaged_json_is_a_media_format_error(text: str) -> None:
    with pytest.raises(MediaFormatError):
        FragmentIndex.from_json(text)


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=200_000), max_size=40))
def test_any_chunking_gives_the_same_index(five_seconds: Recording, cuts: list[int]) -> None:
    data, scanner, at = five_seconds.data, FragmentScanner(), 0
    for cut in sorted(cuts):
        scanner.feed(data[at:cut])
        at = max(at, cut)
    scanner.feed(data[at:])
    assert scanner.index == five_seconds.index


def test_byte_by_byte_and_large_size_boxes(five_seconds: Recording) -> None:
    init = five_seconds.data[: five_seconds.index.init_size]
    large_free = struct.pack(">I4sQ", 1, b"free", 16 + 3) + b"abc"
    scanner = FragmentScanner()
    for byte in init + large_free:
        scanner.feed(bytes([byte]))
    assert scanner.index.tracks == five_seconds.index.tracks
    assert scanner.offset == len(init) + len(large_free) and scanner.skippable == 0


def test_a_box_claiming_an_impossible_size_is_refused() -> None:
    with pytest.raises(MediaFormatError):
        FragmentScanner().feed(struct.pack(">I4s", 4, b"moof"))
