"""The film as a plain progressive MP4: ``ftyp``, one complete ``moov``, then ``mdat``.

Every engine plays and seeks a progressive MP4 with its ``moov`` first; WebKit (Safari)
does not seek in a fragmented one (issue #13). The recorded film stays fragmented on
the card (a power cut keeps every whole fragment); playback serves this view of it:

- the ``moov`` is the recorded one with real durations, its ``mvex`` dropped and each
  track's sample tables written from the index's per-sample tables (``samples``);
- each track run of each fragment is one chunk, so the ``mdat`` is the fragments'
  sample data back to back in the recorded order (sound and picture interleaved per
  second) and every chunk offset maps to one place in the recorded file.

Only the header is built (about 1.2 MB for an hour of 1080p30 with sound, in memory);
every read in the ``mdat`` is mapped onto the recorded file, in production the
decrypting ``age.Reader``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from device.errors import MediaFormatError
from device.media import stbl
from device.media.boxes import box_header, children, find
from device.media.fragments import FragmentIndex, scan_file
from device.media.moovedit import MVHD_MDHD, TKHD, rebuild, set_duration, timescale, track_id
from device.media.samples import I64, SampleTable
from device.media.source import RangeSource
from device.media.virtual import Span, VirtualLayout, VirtualMp4, read_exactly

FTYP = stbl.box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41")
_WIDE_MARGIN = 1 << 26  # room for the header when judging whether offsets pass 4 GiB


@dataclass(frozen=True, slots=True)
class Track:
    """One track's tables, ready to write: durations with gaps between runs closed."""

    table: SampleTable
    durations: I64  # int64; a run's last sample lasts until the next run starts
    start: int  # decode time of the first sample in the recording (tfdt)

    @classmethod
    def of(cls, table: SampleTable) -> Track:
        durations = table.durations.astype(np.int64)
        if len(table.counts) > 1:
            first = np.cumsum(table.counts) - table.counts
            sums = np.add.reduceat(durations, first)
            gaps = table.starts[1:] - (table.starts[:-1] + sums[:-1])
            durations[first[1:] - 1] += gaps  # a jump in tfdt lengthens the sample before
            np.maximum(durations, 0, out=durations)
        return cls(table, durations, int(table.starts[0]) if len(table.starts) else 0)

    @property
    def duration(self) -> int:
        return int(self.durations.sum())


def build(index: FragmentIndex, source: RangeSource) -> VirtualLayout:
    """Plan the progressive view of a recording; reads its init segment from ``source``
    (and, for an index without sample tables, every fragment's ``moof``)."""
    if not index.fragments:
        raise MediaFormatError("the recording has no complete fragment to play")
    tables = index.sample_tables()
    if tables is None:  # a version 1 index: read every moof again; small reads, so each
        # moof (at the start of an age chunk, see SealingTap) costs one chunk, not two
        index = scan_file(source, chunk=4096)
        tables = index.sample_tables() or {}
    init = read_exactly(source, index.init_offset, index.init_size)
    return from_tables(init, {tid: Track.of(t) for tid, t in tables.items()})


def open_virtual_mp4(
    index: FragmentIndex, source: RangeSource, *, close_source: bool = False
) -> VirtualMp4:
    """The phone-playable view of a recording: plan its layout and open a reader over it."""
    return VirtualMp4(build(index, source), source, close_source=close_source)


def from_tables(init: bytes, tracks: dict[int, Track]) -> VirtualLayout:
    """The layout from the recorded init segment (ftyp + moov) and each track's samples."""
    moov = _recorded_moov(init)
    spans, chunk_at, payload = _mdat_plan(tracks)
    wide = payload > stbl.U32_MAX - _WIDE_MARGIN
    mdat_head = 16 if payload + 8 > stbl.U32_MAX else 8
    # the tables but the chunk offsets, once; the moov's size does not depend on the
    # offsets' values, so a first build with offsets from 0 tells where the mdat starts
    fixed = {tid: _fixed_tables(track) for tid, track in tracks.items()}
    plan = _Plan(tracks, fixed, chunk_at, wide)
    base = len(FTYP) + len(_moov(moov, plan, 0)) + mdat_head
    new_moov = _moov(moov, plan, base)
    if len(FTYP) + len(new_moov) + mdat_head != base:  # an offset table changed its width
        raise MediaFormatError("the recording's header is too large to serve")
    if mdat_head == 16:
        header = struct.pack(">I4sQ", 1, b"mdat", payload + 16)
    else:
        header = struct.pack(">I4s", payload + 8, b"mdat")
    head = FTYP + new_moov + header
    mvhd = next(find(new_moov[8:], b"mvhd"))
    duration = struct.unpack_from(">Q" if mvhd[0] else ">I", mvhd, 24 if mvhd[0] else 16)[0]
    return VirtualLayout(
        header=head,
        init_size=len(FTYP) + len(new_moov),
        spans=tuple(Span(v + len(head), s, n) for v, s, n in spans),
        size=len(head) + payload,
        duration_s=duration / timescale(mvhd),
    )


def _recorded_moov(init: bytes) -> bytes:
    at = 0
    while at < len(init):
        header = box_header(init, at)
        if header is None or header[0] == 0 or at + header[0] > len(init):
            break
        size, kind, head = header
        if kind == b"moov":
            return init[at + head : at + size]
        at += size
    raise MediaFormatError("the recording's init segment is damaged")


def _mdat_plan(
    tracks: dict[int, Track],
) -> tuple[list[tuple[int, int, int]], dict[int, I64], int]:
    """Spans (mdat position, file offset, size) of the chunks in file order, each track's
    chunk positions within the mdat payload, and the payload's size."""
    ids, offsets, sizes = [], [], []
    for tid, track in tracks.items():
        t = track.table
        first = np.cumsum(t.counts) - t.counts
        chunk_sizes = np.add.reduceat(t.sizes.astype(np.int64), first) if len(first) else first
        ids.append(np.full(len(first), tid, np.int64))
        offsets.append(t.offsets)
        sizes.append(chunk_sizes)
    all_ids, all_offsets, all_sizes = (np.concatenate(a) for a in (ids, offsets, sizes))
    order = np.argsort(all_offsets, kind="stable")
    at = np.zeros(len(order), np.int64)
    at[order] = np.cumsum(all_sizes[order]) - all_sizes[order]
    src, size = all_offsets[order], all_sizes[order]
    if len(src) > 1 and (src[1:] < src[:-1] + size[:-1]).any():
        raise MediaFormatError("the recording's samples overlap; its index is damaged")
    breaks = np.flatnonzero(src[1:] != src[:-1] + size[:-1]) + 1
    starts = np.concatenate(([0], breaks)).astype(np.int64)
    span_sizes = np.add.reduceat(size, starts) if len(size) else size
    pos = at[order]
    spans = list(zip(pos[starts].tolist(), src[starts].tolist(), span_sizes.tolist(), strict=True))
    chunk_at = {tid: at[all_ids == tid] for tid in tracks}
    return spans, chunk_at, int(size.sum())


@dataclass(frozen=True, slots=True)
class _Plan:
    """What every trak is rebuilt from: samples, the tables but chunk offsets, and where
    each chunk lies in the mdat's payload."""

    tracks: dict[int, Track]
    fixed: dict[int, bytes]
    chunk_at: dict[int, I64]
    wide: bool

    def tables(self, tid: int, base: int) -> bytes:
        at = self.chunk_at.get(tid, np.zeros(0, np.int64))
        return self.fixed.get(tid, _NO_TABLES) + stbl.chunk_offsets(at + base, self.wide)


def _moov(moov: bytes, plan: _Plan, base: int) -> bytes:
    """The recorded moov with durations, edit lists and sample tables; no ``mvex``."""
    mvhd = next(find(moov, b"mvhd"), None)
    if mvhd is None:
        raise MediaFormatError("the recording's moov has no mvhd")
    movie_scale = timescale(mvhd)
    traks, lengths = [], []
    for kind, payload in children(moov):
        if kind == b"trak":
            trak, length = _trak(payload, plan, base, movie_scale)
            traks.append(trak)
            lengths.append(length)
    movie = max(lengths, default=0)
    body = stbl.box(b"mvhd", set_duration(mvhd, movie, MVHD_MDHD)) + b"".join(traks)
    rest = rebuild(moov, {}, drop=frozenset({b"mvhd", b"trak", b"mvex"}))
    return stbl.box(b"moov", body + rest)


def _trak(trak: bytes, plan: _Plan, base: int, movie_scale: int) -> tuple[bytes, int]:
    """One trak rebuilt, and its length in the movie's timescale."""
    tid = track_id(next(find(trak, b"tkhd")))
    scale = timescale(next(find(trak, b"mdia", b"mdhd")))
    track = plan.tracks.get(tid)
    media = track.duration if track is not None else 0
    edits = _edits(trak, track, movie_scale, scale)
    length = sum(d for d, _ in edits) if edits else round(media * movie_scale / scale)
    edts = stbl.box(b"edts", stbl.elst(edits)) if edits else b""
    tables = plan.tables(tid, base)
    minf = {b"stbl": lambda p: rebuild(p, {}, drop=_TABLES) + tables}
    mdia = {
        b"mdhd": lambda p: set_duration(p, media, MVHD_MDHD),
        b"minf": lambda p: rebuild(p, minf),
    }
    out = b""
    for kind, payload in children(trak):
        if kind == b"tkhd":
            out += stbl.box(kind, set_duration(payload, length, TKHD)) + edts
        elif kind == b"mdia":
            out += stbl.box(kind, rebuild(payload, mdia))
        elif kind != b"edts":
            out += stbl.box(kind, payload)
    return stbl.box(b"trak", out), length


_TABLES = frozenset(
    {b"stts", b"ctts", b"stss", b"stsc", b"stsz", b"stz2", b"stco", b"co64", b"sdtp"}
)


def _edits(trak: bytes, track: Track | None, movie_scale: int, scale: int) -> list[tuple[int, int]]:
    """The recorded edit list with media times moved to a timeline that starts at the first
    sample; or, without one, an empty edit for a track that starts late."""
    start = track.start if track is not None else 0
    recorded = [stbl.read_elst(p) for p in find(trak, b"edts", b"elst")]
    if recorded:
        return [(d, max(t - start, 0) if t >= 0 else t) for d, t in recorded[0]]
    if start <= 0 or track is None:
        return []
    return [
        (round(start * movie_scale / scale), -1),
        (round(track.duration * movie_scale / scale), 0),
    ]


_EMPTY = np.zeros(0, np.int64)
_NO_TABLES = stbl.stts(_EMPTY) + stbl.stsc(_EMPTY) + stbl.stsz(_EMPTY)  # a track with no samples


def _fixed_tables(track: Track) -> bytes:
    """A track's sample tables, all but the chunk offsets (``stco``/``co64``, last)."""
    t = track.table
    parts = [
        stbl.stts(track.durations),
        stbl.ctts(t.cts),
        stbl.stss(t.sync),
        stbl.stsc(t.counts),
        stbl.stsz(t.sizes),
    ]
    return b"".join(p for p in parts if p is not None)
