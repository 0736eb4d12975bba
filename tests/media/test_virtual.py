"""The virtual MP4 a phone plays: the true duration up front, an index, the fragments as recorded.

The recording is encrypted in memory and read back through ``age.Reader``, as playback
does on the kit; the virtual file's bytes reach ffprobe through a pipe and PyAV as a
file object, so no plaintext media touches the disk.
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass

import av
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device import age
from device.errors import MediaFormatError
from device.media import (
    Fragment,
    FragmentIndex,
    TrackRun,
    VirtualLayout,
    VirtualMp4,
    hls_playlist,
    open_virtual_mp4,
    scan_file,
)
from device.media.boxes import find, parse_moov
from tests.media.media_helpers import Recording, ffprobe, record

SECONDS = 20.0


@dataclass
class Film:
    recording: Recording
    ciphertext: bytes
    identity: age.X25519Identity

    def reader(self) -> age.Reader:
        return age.Reader(io.BytesIO(self.ciphertext), [self.identity])

    def virtual(self) -> VirtualMp4:
        return open_virtual_mp4(self.recording.index, self.reader())

    def expected(self) -> bytes:
        """What the virtual file must hold after its header: every fragment, in order."""
        data = self.recording.data
        return b"".join(data[f.offset : f.offset + f.size] for f in self.recording.index.fragments)


@pytest.fixture(scope="module")
def film() -> Film:
    recording = record(SECONDS)
    identity = age.X25519Identity.generate()
    return Film(recording, age.encrypt_bytes(recording.data, [identity.recipient()]), identity)


@pytest.fixture(scope="module")
def virtual_bytes(film: Film) -> bytes:
    with film.virtual() as virtual:
        return virtual.read()


def test_ffprobe_over_a_pipe_reports_the_true_duration(virtual_bytes: bytes) -> None:
    probed = ffprobe(virtual_bytes, "-show_format", "-show_streams")
    assert float(probed["format"]["duration"]) == pytest.approx(SECONDS, abs=0.1)
    video = next(s for s in probed["streams"] if s["codec_type"] == "video")
    assert float(video["duration"]) == pytest.approx(SECONDS, abs=0.05)


def test_layout_states_the_duration(film: Film) -> None:
    layout = film.virtual().layout
    assert layout.duration_s == pytest.approx(SECONDS, abs=0.1)
    assert sum(s.duration_s for s in layout.segments) == pytest.approx(SECONDS, abs=1e-3)


def test_pyav_knows_the_length_and_seeks_to_the_middle(film: Film) -> None:
    with film.virtual() as virtual, av.open(virtual, mode="r") as container:
        assert container.duration is not None
        assert container.duration / 1e6 == pytest.approx(SECONDS, abs=0.1)
        container.seek(round(SECONDS / 2 * 1e6))
        frame = next(container.decode(video=0))
        assert frame.time == pytest.approx(SECONDS / 2, abs=1.0)


def test_bytes_are_the_header_then_the_fragments(film: Film, virtual_bytes: bytes) -> None:
    layout = film.virtual().layout
    assert len(virtual_bytes) == layout.size
    assert virtual_bytes[: len(layout.header)] == layout.header
    assert virtual_bytes[len(layout.header) :] == film.expected()


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_seek_and_read_matches(film: Film, virtual_bytes: bytes, data: st.DataObject) -> None:
    virtual = film.virtual()
    for _ in range(data.draw(st.integers(1, 5))):
        start = data.draw(st.integers(0, virtual.size + 10))
        length = data.draw(st.integers(0, 200_000))
        whence = data.draw(st.sampled_from([io.SEEK_SET, io.SEEK_CUR, io.SEEK_END]))
        base = {io.SEEK_SET: 0, io.SEEK_CUR: virtual.tell(), io.SEEK_END: virtual.size}[whence]
        assert virtual.seek(start - base, whence) == start
        assert virtual.read(length) == virtual_bytes[start : start + length]
        assert virtual.tell() == min(start + length, virtual.size) or start > virtual.size


def _sidx(data: bytes) -> tuple[int, int, int, list[tuple[int, int, int]]]:
    """(end of the sidx box, timescale, first_offset, [(size, duration, sap word)])."""
    at = data.index(b"sidx") - 4
    (size,) = struct.unpack_from(">I", data, at)
    fields = struct.unpack_from(">B3sIIQQHH", data, at + 8)
    version, timescale, first_offset, count = fields[0], fields[3], fields[5], fields[7]
    assert version == 1
    refs = list(struct.iter_unpack(">III", data[at + 40 : at + size]))
    assert len(refs) == count
    return at + size, timescale, first_offset, refs


def test_sidx_points_at_every_moof(film: Film, virtual_bytes: bytes) -> None:
    end, timescale, first_offset, refs = _sidx(virtual_bytes)
    at = end + first_offset
    fragments = film.recording.index.fragments
    assert [r[0] for r in refs] == [f.size for f in fragments]
    for size, _, sap in refs:
        assert virtual_bytes[at + 4 : at + 8] == b"moof"
        assert sap >> 28 == 0b1001  # starts_with_SAP, SAP type 1
        at += size
    assert at == len(virtual_bytes)
    assert sum(r[1] for r in refs) / timescale == pytest.approx(SECONDS, abs=1e-3)


def test_scanning_the_virtual_file_finds_the_same_fragments(film: Film) -> None:
    index = film.recording.index
    rescanned = scan_file(film.virtual())
    assert rescanned.tracks == index.tracks
    assert [(f.size, f.runs) for f in rescanned.fragments] == [
        (f.size, f.runs) for f in index.fragments
    ]


def test_moov_states_durations_and_mehd(film: Film, virtual_bytes: bytes) -> None:
    layout = film.virtual().layout
    moov = next(find(virtual_bytes[: layout.init_size], b"moov"))
    mvhd = next(find(moov, b"mvhd"))
    timescale, duration = struct.unpack_from(">II", mvhd, 12)
    mehd = next(find(moov, b"mvex", b"mehd"))
    assert struct.unpack_from(">Q", mehd, 4)[0] == duration
    assert duration / timescale == pytest.approx(layout.duration_s, abs=1e-3)
    original = next(find(film.recording.data[: film.recording.index.init_size], b"moov"))
    assert parse_moov(moov) == parse_moov(original)  # tracks and trex defaults kept


def test_hls_byte_ranges_point_at_moofs(film: Film, virtual_bytes: bytes) -> None:
    layout = film.virtual().layout
    text = hls_playlist(layout, "film.mp4")
    lines = text.splitlines()
    assert lines[:2] == ["#EXTM3U", "#EXT-X-VERSION:7"] and lines[-1] == "#EXT-X-ENDLIST"
    (init_size,) = re.findall(r'#EXT-X-MAP:URI="film\.mp4",BYTERANGE="(\d+)@0"', text)
    assert virtual_bytes[4:8] == b"ftyp"
    assert virtual_bytes[int(init_size) + 4 : int(init_size) + 8] == b"sidx"
    ranges = [(int(n), int(o)) for n, o in re.findall(r"#EXT-X-BYTERANGE:(\d+)@(\d+)", text)]
    assert len(ranges) == len(film.recording.index.fragments)
    for size, offset in ranges:
        assert virtual_bytes[offset + 4 : offset + 8] == b"moof"
        assert struct.unpack_from(">I", virtual_bytes, offset)[0] < size
    durations = [float(d) for d in re.findall(r"#EXTINF:([\d.]+),", text)]
    assert sum(durations) == pytest.approx(SECONDS, abs=1e-3)
    target = int(re.findall(r"#EXT-X-TARGETDURATION:(\d+)", text)[0])
    assert max(round(d) for d in durations) <= target


def _synthetic(
    init: bytes, seconds: int, *, fragment_s: int = 1, video: bool = True
) -> FragmentIndex:
    """An index of ``seconds`` of 1 s fragments of about 40 KB, without encoding anything."""
    tracks = parse_moov(next(find(init, b"moov")))[0]
    if not video:
        tracks = [t for t in tracks if t.kind != "video"]
    fragments, at = [], len(init)
    for n in range(seconds // fragment_s):
        runs = tuple(
            TrackRun(t.track_id, n * fragment_s * t.timescale, fragment_s * t.timescale, True)
            for t in tracks
        )
        fragments.append(Fragment(at, 40_000, runs))
        at += 40_000
    return FragmentIndex(0, len(init), tuple(tracks), fragments)


def test_an_hour_needs_a_small_header(film: Film) -> None:
    init = film.recording.data[: film.recording.index.init_size]
    layout = VirtualLayout.from_init(_synthetic(init, 3600), init)
    assert len(layout.header) < 100_000
    assert layout.duration_s == 3600
    assert len(layout.segments) == 3600


def test_a_long_film_upgrades_32_bit_durations(film: Film) -> None:
    init = film.recording.data[: film.recording.index.init_size]
    fourteen_hours = 14 * 3600  # 90 kHz ticks no longer fit in 32 bits
    layout = VirtualLayout.from_init(_synthetic(init, fourteen_hours, fragment_s=15), init)
    moov = next(find(layout.header[: layout.init_size], b"moov"))
    mdhd = next(find(moov, b"trak", b"mdia", b"mdhd"))
    assert mdhd[0] == 1
    assert struct.unpack_from(">IQ", mdhd, 20) == (90_000, fourteen_hours * 90_000)
    assert parse_moov(moov)[0][0].timescale == 90_000


def test_sound_only_film_is_indexed_by_its_audio(film: Film) -> None:
    init = film.recording.data[: film.recording.index.init_size]
    layout = VirtualLayout.from_init(_synthetic(init, 30, video=False), init)
    assert [s.duration_s for s in layout.segments] == [1.0] * 30


def test_fragments_without_video_join_the_one_before(film: Film, virtual_bytes: bytes) -> None:
    index = film.recording.index
    video = index.video
    assert video is not None
    fragments = list(index.fragments)
    # the 3rd and 4th fragments lose their video run; the 1st has none either
    for n in (0, 2, 3):
        runs = tuple(r for r in fragments[n].runs if r.track_id != video.track_id)
        fragments[n] = Fragment(fragments[n].offset, fragments[n].size, runs)
    changed = FragmentIndex(index.init_offset, index.init_size, index.tracks, fragments)
    with film.reader() as reader:
        layout = VirtualLayout.build(changed, reader)
        data = VirtualMp4(layout, reader).read()
    sizes = [f.size for f in fragments]
    expected = [sizes[0], sizes[1] + sizes[2] + sizes[3], *sizes[4:]]
    _, _, _, refs = _sidx(data)
    assert [r[0] for r in refs] == [s.size for s in layout.segments] == expected
    assert refs[0][2] == 0 and all(r[2] >> 31 for r in refs[1:])  # the first has no SAP
    assert data[len(layout.header) :] == film.expected()


def test_video_track_without_samples_is_indexed_by_its_audio(film: Film) -> None:
    index = film.recording.index
    video = index.video
    assert video is not None
    fragments = [
        Fragment(f.offset, f.size, tuple(r for r in f.runs if r.track_id != video.track_id))
        for f in index.fragments
    ]
    changed = FragmentIndex(index.init_offset, index.init_size, index.tracks, fragments)
    layout = VirtualLayout.build(changed, film.reader())
    assert len(layout.segments) == len(fragments)
    assert sum(s.duration_s for s in layout.segments) == pytest.approx(SECONDS, abs=0.1)


@pytest.mark.parametrize("close_source", [True, False])
def test_closing_closes_the_source_only_when_asked(film: Film, close_source: bool) -> None:
    reader = film.reader()
    virtual = open_virtual_mp4(film.recording.index, reader, close_source=close_source)
    virtual.close()
    assert reader.closed == close_source
    with pytest.raises(ValueError, match="closed"):
        virtual.read(1)


def test_a_recording_without_fragments_is_refused(film: Film) -> None:
    index = film.recording.index
    empty = FragmentIndex(index.init_offset, index.init_size, index.tracks, [])
    with pytest.raises(MediaFormatError):
        open_virtual_mp4(empty, film.reader())


def test_a_source_shorter_than_its_index_is_an_error(film: Film) -> None:
    cut = io.BytesIO(film.recording.data[: len(film.recording.data) // 2])
    virtual = open_virtual_mp4(film.recording.index, cut)
    virtual.seek(virtual.size - 10)
    with pytest.raises(MediaFormatError):
        virtual.read()
