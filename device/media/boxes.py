"""Readers for the few ISO BMFF (MP4) boxes the fragment index needs.

Box headers and children, and what a fragmented MP4 from FFmpeg's ``mov`` muxer says in
its ``moov`` (track ids, timescales, handler kinds, ``trex`` defaults); the ``moof``
boxes are read by ``samples``. Field layouts follow ISO/IEC 14496-12 §8.8.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from device.errors import MediaFormatError


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
