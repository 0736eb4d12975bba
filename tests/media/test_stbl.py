"""The progressive header's tables on their own: the 4 GiB limits, gaps, late starts.

Films of more than 4 GiB are heavy to make, so these plan headers from made-up sample
tables over a real recording's init segment (nothing is read past the header).
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from device.media import stbl
from device.media.boxes import children, find
from device.media.progressive import Track, from_tables
from device.media.samples import SampleTable
from tests.media.media_helpers import Recording

MB = 1 << 20


def table(
    chunks: int, per_chunk: int, size: int, duration: int, *, gap_at: int = -1
) -> SampleTable:
    """``chunks`` runs of equal samples back to back in the file (a 100 byte moof between)."""
    counts = np.full(chunks, per_chunk, np.int64)
    offsets = 1000 + np.arange(chunks, dtype=np.int64) * (per_chunk * size + 100)
    starts = np.arange(chunks, dtype=np.int64) * per_chunk * duration
    if gap_at >= 0:
        starts[gap_at:] += duration // 2  # the recorder lost half a frame's time here
    n = chunks * per_chunk
    return SampleTable(
        offsets,
        counts,
        starts,
        np.full(n, size, np.uint32),
        np.full(n, duration, np.uint32),
        np.zeros(n, np.int64),
        np.arange(n) % per_chunk == 0,
    )


def init_of(recording: Recording) -> bytes:
    return recording.data[: recording.index.init_size]


def stbl_of(header: bytes, n: int) -> dict[bytes, bytes]:
    moov = next(find(header, b"moov"))
    trak = list(find(moov, b"trak"))[n]
    return dict(children(next(find(trak, b"mdia", b"minf", b"stbl"))))


def test_a_film_past_4_gib_gets_co64_and_a_64_bit_mdat(five_seconds: Recording) -> None:
    big = table(200, 30, MB, 3000)  # 6000 MiB of video
    layout = from_tables(init_of(five_seconds), {1: Track.of(big)})
    header = layout.header
    assert header[-16:-8] == struct.pack(">I4s", 1, b"mdat")
    assert struct.unpack(">Q", header[-8:])[0] == 200 * 30 * MB + 16
    tables = stbl_of(header, 0)
    assert b"stco" not in tables
    offsets = np.frombuffer(tables[b"co64"], ">u8", offset=8).astype(np.int64)
    assert len(offsets) == 200 and offsets.max() > 1 << 32
    assert (offsets == len(header) + np.arange(200) * 30 * MB).all()
    assert layout.size == len(header) + 200 * 30 * MB
    # every chunk is its own span: the moofs between them are left out
    assert [(s.virtual, s.source, s.size) for s in layout.spans[:2]] == [
        (len(header), 1000, 30 * MB),
        (len(header) + 30 * MB, 1000 + 30 * MB + 100, 30 * MB),
    ]


def test_a_film_under_4_gib_keeps_32_bit_offsets(five_seconds: Recording) -> None:
    layout = from_tables(init_of(five_seconds), {1: Track.of(table(10, 30, 1000, 3000))})
    assert b"stco" in stbl_of(layout.header, 0) and b"co64" not in stbl_of(layout.header, 0)
    assert layout.header[-4:] == b"mdat"


def test_offsets_table_writer_switches_to_co64_by_itself() -> None:
    small = stbl.chunk_offsets(np.array([8, 1 << 31], np.int64), wide=False)
    assert small[4:8] == b"stco"
    large = stbl.chunk_offsets(np.array([8, (1 << 32) + 5], np.int64), wide=False)
    assert large[4:8] == b"co64"
    assert np.frombuffer(large, ">u8", offset=16).tolist() == [8, (1 << 32) + 5]


def test_a_jump_in_decode_time_lengthens_the_sample_before_it() -> None:
    track = Track.of(table(3, 30, 1000, 3000, gap_at=2))
    assert track.durations[59] == 4500 and (np.delete(track.durations, 59) == 3000).all()
    assert track.duration == 90 * 3000 + 1500


def test_runs_of_equal_durations_and_offsets_are_coded_once() -> None:
    durations = np.array([3000] * 5 + [3003] + [3000] * 4)
    payload = stbl.stts(durations)[12:]
    assert np.frombuffer(payload, ">u4", offset=4).reshape(-1, 2).tolist() == [
        [5, 3000],
        [1, 3003],
        [4, 3000],
    ]
    assert stbl.ctts(np.zeros(4, np.int64)) is None
    signed = stbl.ctts(np.array([-3000, 0, 6000], np.int64))
    assert signed is not None and signed[8] == 1  # version 1: signed offsets
    assert np.frombuffer(signed, ">i4", offset=16).reshape(-1, 2)[:, 1].tolist() == [-3000, 0, 6000]


def test_samples_per_chunk_has_an_entry_where_the_count_changes() -> None:
    payload = stbl.stsc(np.array([47, 47, 46, 46, 47]))
    entries = np.frombuffer(payload, ">u4", offset=16).reshape(-1, 3).tolist()
    assert entries == [[1, 47, 1], [3, 46, 1], [5, 47, 1]]


def test_a_track_that_starts_late_gets_an_empty_edit(five_seconds: Recording) -> None:
    late = table(5, 47, 300, 1024)
    late = SampleTable(
        late.offsets + 10 * MB,  # after the video's samples
        late.counts,
        late.starts + 4800,
        late.sizes,
        late.durations,
        late.cts,
        late.sync,
    )
    video = table(5, 30, 1000, 3000)
    layout = from_tables(init_of(five_seconds), {1: Track.of(video), 2: Track.of(late)})
    moov = next(find(layout.header, b"moov"))
    mvhd = next(find(moov, b"mvhd"))
    movie_scale = struct.unpack_from(">I", mvhd, 12)[0]
    audio = list(find(moov, b"trak"))[1]
    elst = next(find(audio, b"edts", b"elst"))
    assert stbl.read_elst(elst) == [
        (round(0.1 * movie_scale), -1),
        (round(5 * 47 * 1024 / 48000 * movie_scale), 0),
    ]
    assert next(find(next(find(moov, b"trak")), b"edts"), None) is None


def test_an_elst_writer_round_trips_wide_entries() -> None:
    edits = [(1 << 33, -1), (10, 1 << 32)]
    payload = stbl.elst(edits)
    assert payload[8] == 1
    assert stbl.read_elst(payload[8:]) == edits


@pytest.mark.parametrize("sizes", [[5, 5, 5], [5, 6, 7]])
def test_sample_sizes_use_one_size_when_all_agree(sizes: list[int]) -> None:
    payload = stbl.stsz(np.array(sizes))
    default, count = struct.unpack_from(">II", payload, 12)
    assert count == 3 and (default == 5) == (sizes == [5, 5, 5])
    if not default:
        assert np.frombuffer(payload, ">u4", offset=20).tolist() == sizes
