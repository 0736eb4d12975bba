"""The progressive MP4 a phone plays: ftyp, a complete moov built from the index, the samples.

The recording is encrypted in memory and read back through ``age.Reader``, as playback
does on the kit; the virtual file's bytes reach ffmpeg/ffprobe through a pipe and PyAV
as a file object, so no plaintext media touches the disk.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
from dataclasses import dataclass

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device import age
from device.errors import MediaFormatError
from device.media import FragmentIndex, VirtualMp4, open_virtual_mp4, progressive, scan_file
from device.media.boxes import children, find
from device.media.samples import SampleTable
from tests.media.media_helpers import Recording, ffprobe, record
from tests.mediacheck import ffmpeg_decodes

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

    def expected_mdat(self) -> bytes:
        """Every run's samples, in the order they lie in the recorded file."""
        data, chunks = self.recording.data, []
        for table in self.recording.index.sample_tables().values():  # type: ignore[union-attr]
            sizes = np.add.reduceat(
                table.sizes.astype(np.int64), np.cumsum(table.counts) - table.counts
            )
            chunks += zip(table.offsets.tolist(), sizes.tolist(), strict=True)
        return b"".join(data[o : o + n] for o, n in sorted(chunks))


@pytest.fixture(scope="module")
def film() -> Film:
    recording = record(SECONDS)
    identity = age.X25519Identity.generate()
    return Film(recording, age.encrypt_bytes(recording.data, [identity.recipient()]), identity)


@pytest.fixture(scope="module")
def virtual_bytes(film: Film) -> bytes:
    with film.virtual() as virtual:
        return virtual.read()


def framemd5(mp4: bytes) -> list[str]:
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "pipe:0", "-map", "0", "-f", "framemd5", "-"],
        input=mp4,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [line for line in out.splitlines() if not line.startswith("#")]


def top_level(data: bytes) -> list[bytes]:
    kinds, at = [], 0
    while at < len(data):
        size, kind = struct.unpack_from(">I4s", data, at)
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, at + 8)
        kinds.append(kind)
        at += size
    return kinds


def test_ffprobe_over_a_pipe_reports_the_true_duration(virtual_bytes: bytes) -> None:
    probed = ffprobe(virtual_bytes, "-show_format", "-show_streams")
    assert float(probed["format"]["duration"]) == pytest.approx(SECONDS, abs=0.1)
    video = next(s for s in probed["streams"] if s["codec_type"] == "video")
    assert float(video["duration"]) == pytest.approx(SECONDS, abs=0.05)
    assert int(video["nb_frames"]) == round(SECONDS * 30)


def test_it_is_a_plain_progressive_mp4_with_its_moov_first(virtual_bytes: bytes) -> None:
    assert top_level(virtual_bytes) == [b"ftyp", b"moov", b"mdat"]
    moov = next(find(virtual_bytes, b"moov"))
    assert next(find(moov, b"mvex"), None) is None
    assert next(find(virtual_bytes, b"moof"), None) is None


def test_ffmpeg_decodes_it_without_a_word(virtual_bytes: bytes) -> None:
    assert ffmpeg_decodes(virtual_bytes) == (0, "")


def test_it_decodes_to_the_same_frames_and_sound_as_the_recording(
    film: Film, virtual_bytes: bytes
) -> None:
    original = framemd5(film.recording.data)
    assert len(original) > SECONDS * 30
    assert framemd5(virtual_bytes) == original


def test_pyav_knows_the_length_and_seeks_to_the_middle(film: Film) -> None:
    with film.virtual() as virtual, av.open(virtual, mode="r") as container:
        assert container.duration is not None
        assert container.duration / 1e6 == pytest.approx(SECONDS, abs=0.1)
        container.seek(round(SECONDS / 2 * 1e6))
        frame = next(container.decode(video=0))
        assert frame.time == pytest.approx(SECONDS / 2, abs=1.0)


def test_bytes_are_the_header_then_the_recorded_samples(film: Film, virtual_bytes: bytes) -> None:
    layout = film.virtual().layout
    assert len(virtual_bytes) == layout.size
    assert virtual_bytes[: len(layout.header)] == layout.header
    assert virtual_bytes[len(layout.header) :] == film.expected_mdat()


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


def _stbl(moov: bytes, n: int) -> dict[bytes, bytes]:
    trak = list(find(moov, b"trak"))[n]
    return dict(children(next(find(trak, b"mdia", b"minf", b"stbl"))))


def test_the_moov_carries_the_recorded_codec_setup_and_every_sample(
    film: Film, virtual_bytes: bytes
) -> None:
    moov = next(find(virtual_bytes, b"moov"))
    recorded = next(find(film.recording.data[: film.recording.index.init_size], b"moov"))
    tables = film.recording.index.sample_tables()
    assert tables is not None
    for n, tid in enumerate(tables):
        boxes, old = _stbl(moov, n), _stbl(recorded, n)
        assert boxes[b"stsd"] == old[b"stsd"]
        sizes = np.frombuffer(boxes[b"stsz"], ">u4", offset=12)
        assert (sizes == tables[tid].sizes).all() or struct.unpack_from(">I", boxes[b"stsz"], 4)[0]
        assert struct.unpack_from(">I", boxes[b"stco"], 4)[0] == len(tables[tid].counts)
    video = _stbl(moov, 0)
    keyframes = np.frombuffer(video[b"stss"], ">u4", offset=8)
    assert list(keyframes) == [1 + 30 * n for n in range(round(SECONDS))]
    assert b"stss" not in _stbl(moov, 1)  # every sound sample is a sync sample


def test_chunk_offsets_point_at_each_runs_samples(film: Film, virtual_bytes: bytes) -> None:
    moov = next(find(virtual_bytes, b"moov"))
    data = film.recording.data
    tables = film.recording.index.sample_tables()
    assert tables is not None
    for n, table in enumerate(tables.values()):
        offsets = np.frombuffer(_stbl(moov, n)[b"stco"], ">u4", offset=8)
        first_sizes = table.sizes[np.cumsum(table.counts) - table.counts]
        assert len(offsets) == len(table.offsets)
        for at, recorded_at, size in zip(
            offsets.tolist(), table.offsets.tolist(), first_sizes.tolist(), strict=True
        ):
            assert virtual_bytes[at : at + size] == data[recorded_at : recorded_at + size]


def test_a_version_1_index_without_sample_tables_gives_the_same_file(
    film: Film, virtual_bytes: bytes
) -> None:
    doc = json.loads(film.recording.index.to_json())
    doc["v"] = 1
    del doc["samples"]
    old = FragmentIndex.from_json(json.dumps(doc))
    assert old.sample_tables() is None
    with open_virtual_mp4(old, film.reader()) as virtual:
        assert virtual.read() == virtual_bytes


def test_the_index_keeps_the_sample_tables(film: Film) -> None:
    index = film.recording.index
    again = FragmentIndex.from_json(index.to_json())
    assert again.fragments == index.fragments
    before, after = index.sample_tables(), again.sample_tables()
    assert before is not None and after is not None and before.keys() == after.keys()
    for tid, table in before.items():
        for name in SampleTable.__slots__:
            assert (getattr(table, name) == getattr(after[tid], name)).all(), name


def test_an_interrupted_recording_plays_its_whole_fragments(film: Film) -> None:
    data = film.recording.data
    cut = film.recording.index.fragments[7]
    damaged = data[: cut.offset + cut.size // 2]  # the power went in the 8th fragment
    index = scan_file(io.BytesIO(damaged))
    assert len(index.fragments) == 7
    with open_virtual_mp4(index, io.BytesIO(damaged)) as virtual:
        mp4 = virtual.read()
    assert ffmpeg_decodes(mp4) == (0, "")
    assert float(ffprobe(mp4, "-show_format")["format"]["duration"]) == pytest.approx(7, abs=0.1)
    got = framemd5(mp4)  # ffmpeg also shows what it can of the cut 8th fragment
    assert len(got) > 7 * 30 and got == framemd5(damaged)[: len(got)]


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


def test_build_reads_the_init_segment_through_the_source(film: Film) -> None:
    with film.reader() as reader:
        layout = progressive.build(film.recording.index, reader)
    assert layout.duration_s == pytest.approx(SECONDS, abs=0.02)


def test_a_film_with_b_frames_keeps_its_composition_offsets() -> None:
    """The kit's camera sends no B-frames, but a film from elsewhere may: FFmpeg's
    fragmented MP4 of libx264 with B-frames, made in memory, through the same path."""
    mp4 = subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=30:d=4"),
            *("-f", "lavfi", "-i", "sine=d=4", "-c:v", "libx264", "-bf", "2", "-g", "30"),
            *("-c:a", "aac", "-movflags", "frag_keyframe+empty_moov+default_base_moof"),
            *("-f", "mp4", "pipe:1"),
        ],
        capture_output=True,
        check=True,
    ).stdout
    index = scan_file(io.BytesIO(mp4))
    tables = index.sample_tables()
    assert tables is not None and tables[1].cts.max() > 0  # B-frames: shown after decoding
    with open_virtual_mp4(index, io.BytesIO(mp4)) as virtual:
        progressive_mp4 = virtual.read()
    assert b"ctts" in progressive_mp4[: virtual.layout.init_size]
    assert ffmpeg_decodes(progressive_mp4) == (0, "")
    assert framemd5(progressive_mp4) == framemd5(mp4)
