"""Boxes written for playback: a ``moov`` that knows the duration, and a global ``sidx``.

The recorded ``moov`` comes first in the file (``empty_moov``), before any duration is
known, so its ``mvhd``/``tkhd``/``mdhd`` durations are zero and ``mvex`` has no
``mehd``. Players then guess the length from the first fragment (Chromium shows about
one second). Playback rewrites those few fields from the fragment index and adds one
``sidx`` with a reference per fragment, so a player knows the length and where every
second lies before it reads a single fragment. Field layouts: ISO/IEC 14496-12 §8.2.2
(mvhd), §8.3.2 (tkhd), §8.4.2 (mdhd), §8.8.2 (mehd), §8.16.3 (sidx).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from device.errors import MediaFormatError
from device.media.boxes import children, find
from device.media.fragments import Fragment, FragmentIndex

_U32 = 0xFFFFFFFF
_MAX_REFERENCES = 0xFFFF  # reference_count is 16 bits: about 18 hours of 1 s fragments
_MAX_REFERENCED_SIZE = 0x7FFFFFFF  # referenced_size is 31 bits
# Fields before the duration, after version+flags: (version 0 widths, version 1 widths).
# mvhd/mdhd: creation, modification, timescale; tkhd: creation, modification, id, reserved.
_MVHD_MDHD = ((4, 4, 4), (8, 8, 4))
_TKHD = ((4, 4, 4, 4), (8, 8, 4, 4))

Edits = dict[bytes, Callable[[bytes], bytes]]


@dataclass(frozen=True, slots=True)
class Subsegment:
    """One ``sidx`` reference: a run of whole fragments that starts with the reference track."""

    size: int  # bytes, moof + mdat of every fragment in it
    duration: int  # in the reference track's timescale
    keyframe: bool  # starts with a sync sample (SAP type 1)
    fragments: int  # how many fragments it spans


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def reference_track(index: FragmentIndex) -> int:
    """The track the ``sidx`` times: video, else the first track with samples (sound only)."""
    if not index.tracks:
        raise MediaFormatError("the recording's MP4 has no tracks")
    timed = {r.track_id for f in index.fragments for r in f.runs}
    video = index.video
    if video is not None and video.track_id in timed:
        return video.track_id
    return next((t.track_id for t in index.tracks if t.track_id in timed), index.tracks[0].track_id)


def track_spans(index: FragmentIndex) -> dict[int, int]:
    """Per track id, the span from its first sample to the end of its last, in its timescale."""
    spans = {}
    for track in index.tracks:
        runs = [r for f in index.fragments if (r := f.run(track.track_id)) is not None]
        spans[track.track_id] = runs[-1].start + runs[-1].duration - runs[0].start if runs else 0
    return spans


def subsegments(fragments: Sequence[Fragment], track_id: int) -> list[Subsegment]:
    """Group fragments so each group starts with a run of ``track_id``.

    A fragment without that track (audio only) joins the group before it: a ``sidx``
    must account for every byte, and a reference that lasts no time would be useless
    to seek to. Fragments before the first such run form a group of their own.
    """
    groups: list[list[Fragment]] = []
    for fragment in fragments:
        if not groups or fragment.run(track_id) is not None:
            groups.append([])
        groups[-1].append(fragment)
    return [_subsegment(group, track_id) for group in groups]


def _subsegment(group: list[Fragment], track_id: int) -> Subsegment:
    runs = [r for f in group if (r := f.run(track_id)) is not None]
    keyframe = group[0].run(track_id) is not None and runs[0].keyframe
    size = sum(f.size for f in group)
    return Subsegment(size, sum(r.duration for r in runs), keyframe, len(group))


def sidx_box(
    track_id: int, timescale: int, earliest: int, parts: Sequence[Subsegment], first_offset: int = 0
) -> bytes:
    """A version 1 ``sidx``; ``first_offset`` counts from the end of this box to the first moof."""
    if len(parts) > _MAX_REFERENCES:
        raise MediaFormatError(f"a recording of {len(parts)} fragments is too long to index")
    head = struct.pack(
        ">IIIQQHH", 1 << 24, track_id, timescale, earliest, first_offset, 0, len(parts)
    )
    refs = bytearray()
    for part in parts:
        if part.size > _MAX_REFERENCED_SIZE or part.duration > _U32:
            raise MediaFormatError("a fragment of the recording is too large to index")
        sap = (1 << 31 | 1 << 28) if part.keyframe else 0  # starts_with_SAP, SAP_type 1
        refs += struct.pack(">III", part.size, part.duration, sap)
    return box(b"sidx", head + bytes(refs))


def patch_moov(moov: bytes, index: FragmentIndex) -> bytes:
    """The ``moov`` payload with real durations and an ``mehd``; other boxes untouched."""
    mvhd = next(find(moov, b"mvhd"), None)
    if mvhd is None or next(find(moov, b"mvex"), None) is None:
        raise MediaFormatError("the recording's moov lacks mvhd or mvex; it is not fragmented")
    movie_scale = _timescale(mvhd)
    spans, scales = track_spans(index), {t.track_id: t.timescale for t in index.tracks}
    in_movie = {
        tid: round(span * movie_scale / scales[tid]) if scales[tid] else 0
        for tid, span in spans.items()
    }
    movie = max(in_movie.values(), default=0)
    return _rebuild(
        moov,
        {
            b"mvhd": lambda p: _set_duration(p, movie, _MVHD_MDHD),
            b"trak": lambda p: _patch_trak(p, in_movie, spans),
            b"mvex": lambda p: _patch_mvex(p, movie),
        },
    )


def _patch_trak(trak: bytes, in_movie: dict[int, int], spans: dict[int, int]) -> bytes:
    tkhd = next(find(trak, b"tkhd"))
    track_id = struct.unpack_from(">I", tkhd, 20 if tkhd[0] == 1 else 12)[0]
    return _rebuild(
        trak,
        {
            b"tkhd": lambda p: _set_duration(p, in_movie.get(track_id, 0), _TKHD),
            b"mdia": lambda p: _rebuild(
                p, {b"mdhd": lambda q: _set_duration(q, spans.get(track_id, 0), _MVHD_MDHD)}
            ),
        },
    )


def _patch_mvex(mvex: bytes, duration: int) -> bytes:
    """``mehd`` first (where §8.8.1 puts it), replacing any old one, then the rest."""
    mehd = box(b"mehd", struct.pack(">IQ", 1 << 24, duration))
    rest = b"".join(box(kind, p) for kind, p in children(mvex) if kind != b"mehd")
    return mehd + rest


def _rebuild(payload: bytes, edits: Edits) -> bytes:
    """Re-emit each child box, passing the payloads named in ``edits`` through their edit."""
    return b"".join(
        box(kind, edits[kind](p) if kind in edits else p) for kind, p in children(payload)
    )


def _timescale(header: bytes) -> int:
    """The timescale of an ``mvhd`` or ``mdhd`` payload."""
    return int(struct.unpack_from(">I", header, 20 if header[0] == 1 else 12)[0])


def _set_duration(
    payload: bytes, duration: int, widths: tuple[tuple[int, ...], tuple[int, ...]]
) -> bytes:
    """Write ``duration`` into a full box; a version 0 box too small for it becomes version 1."""
    old = payload[0]
    if old > 1:
        raise MediaFormatError(f"an MP4 header box has unknown version {old}")
    lead = struct.unpack_from(_layout(widths[old], old), payload, 4)[:-1]
    tail = payload[4 + struct.calcsize(_layout(widths[old], old)) :]
    new = 1 if old == 1 or duration > _U32 else 0
    return (
        bytes([new]) + payload[1:4] + struct.pack(_layout(widths[new], new), *lead, duration) + tail
    )


def _layout(lead: tuple[int, ...], version: int) -> str:
    """struct format of the fields up to and including the duration."""
    return ">" + "".join("Q" if w == 8 else "I" for w in lead) + ("Q" if version else "I")
