"""Readers for the few ISO BMFF (MP4) boxes the fragment index needs.

Only what a fragmented MP4 from FFmpeg's ``mov`` muxer uses: ``moov`` (track ids,
timescales, handler kinds, ``trex`` defaults) and ``moof`` (``tfhd``, ``tfdt``, ``trun``).
Field layouts follow ISO/IEC 14496-12 §8.8.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from device.errors import MediaFormatError

# sample_is_non_sync_sample in the 32-bit sample flags (ISO/IEC 14496-12 §8.8.3.1)
_NON_SYNC = 0x00010000


def box_header(data: bytes | bytearray | memoryview, at: int = 0) -> tuple[int, bytes, int] | None:
    """(box size, 4-char type, header length) at ``at``, or None if not enough bytes.

    A size of 0 ("to the end of the file") is returned as 0 for the caller to handle.
    """
    if len(data) - at < 8:
        return None
    size, kind = struct.unpack_from(">I4s", data, at)
    if size == 1:
        if len(data) - at < 16:
            return None
        (size,) = struct.unpack_from(">Q", data, at + 8)
        return size, kind, 16
    if size != 0 and size < 8:
        raise MediaFormatError(f"box {kind!r} claims an impossible size of {size} bytes")
    return size, kind, 8


def children(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, bytes]]:
    """Yield (type, payload) for each complete child box in ``data[start:end]``."""
    end = len(data) if end is None else end
    at = start
    while at < end:
        header = box_header(data, at)
        if header is None:
            return
        size, kind, head = header
        size = size or end - at
        if at + size > end:
            raise MediaFormatError(f"box {kind!r} runs past its parent")
        yield kind, data[at + head : at + size]
        at += size


def find(data: bytes, *path: bytes) -> Iterator[bytes]:
    """Yield payloads of boxes reached by following ``path`` from the top of ``data``."""
    first, rest = path[0], path[1:]
    for kind, payload in children(data):
        if kind == first:
            yield from (find(payload, *rest) if rest else (payload,))


@dataclass(frozen=True, slots=True)
class TrackInfo:
    """One track from ``moov``: id, handler kind ("video", "audio" or the raw 4cc)."""

    track_id: int
    kind: str
    timescale: int


@dataclass(frozen=True, slots=True)
class TrackRun:
    """One track's part of a fragment, in that track's timescale."""

    track_id: int
    start: int  # tfdt baseMediaDecodeTime
    duration: int
    keyframe: bool  # the first sample is a sync sample


_KINDS = {b"vide": "video", b"soun": "audio"}


def parse_moov(moov: bytes) -> tuple[list[TrackInfo], dict[int, tuple[int, int]]]:
    """Tracks, and per track id the ``trex`` (default duration, default flags)."""
    tracks = []
    for trak in find(moov, b"trak"):
        tkhd = next(find(trak, b"tkhd"))
        track_id = struct.unpack_from(">I", tkhd, 20 if tkhd[0] == 1 else 12)[0]
        mdhd = next(find(trak, b"mdia", b"mdhd"))
        timescale = struct.unpack_from(">I", mdhd, 20 if mdhd[0] == 1 else 12)[0]
        handler = next(find(trak, b"mdia", b"hdlr"))[8:12]
        tracks.append(
            TrackInfo(track_id, _KINDS.get(handler, handler.decode("latin-1")), timescale)
        )
    trex = {}
    for box in find(moov, b"mvex", b"trex"):
        track_id, _, duration, _, flags = struct.unpack_from(">5I", box, 4)
        trex[track_id] = (duration, flags)
    return tracks, trex


def parse_moof(moof: bytes, trex: dict[int, tuple[int, int]]) -> list[TrackRun]:
    """One TrackRun per ``traf`` in a movie fragment."""
    return [_parse_traf(traf, trex) for traf in find(moof, b"traf")]


def _parse_traf(traf: bytes, trex: dict[int, tuple[int, int]]) -> TrackRun:
    tfhd = next(find(traf, b"tfhd"))
    flags = int.from_bytes(tfhd[1:4], "big")
    track_id = struct.unpack_from(">I", tfhd, 4)[0]
    default_duration, default_flags = trex.get(track_id, (0, 0))
    at = 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
    if flags & 0x08:
        default_duration = struct.unpack_from(">I", tfhd, at)[0]
        at += 4
    at += 4 if flags & 0x10 else 0
    if flags & 0x20:
        default_flags = struct.unpack_from(">I", tfhd, at)[0]
    start = 0
    for tfdt in find(traf, b"tfdt"):
        start = struct.unpack_from(">Q" if tfdt[0] == 1 else ">I", tfdt, 4)[0]
    duration, first_flags = 0, None
    for trun in find(traf, b"trun"):
        run_duration, run_flags = _parse_trun(trun, default_duration, default_flags)
        duration += run_duration
        first_flags = run_flags if first_flags is None else first_flags
    keyframe = first_flags is not None and not first_flags & _NON_SYNC
    return TrackRun(track_id, start, duration, keyframe)


def _parse_trun(trun: bytes, default_duration: int, default_flags: int) -> tuple[int, int]:
    """(sum of sample durations, first sample's flags) of one track run."""
    flags = int.from_bytes(trun[1:4], "big")
    (count,) = struct.unpack_from(">I", trun, 4)
    at = 8 + (4 if flags & 0x001 else 0)
    first_flags = default_flags
    if flags & 0x004:
        first_flags = struct.unpack_from(">I", trun, at)[0]
        at += 4
    fields = [bit for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit]
    if not fields:
        return count * default_duration, first_flags
    per_sample = struct.iter_unpack(f">{len(fields)}I", trun[at : at + 4 * len(fields) * count])
    total = 0
    for n, values in enumerate(per_sample):
        sample = dict(zip(fields, values, strict=True))
        total += sample.get(0x100, default_duration)
        if n == 0 and not flags & 0x004:
            first_flags = sample.get(0x400, default_flags)
    return total, first_flags
