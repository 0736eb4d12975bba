"""Editing the header boxes of a recorded ``moov``: durations, and children rebuilt.

The recorded ``moov`` comes first in the film (``empty_moov``), before any duration is
known, so its ``mvhd``/``tkhd``/``mdhd`` durations are zero. The progressive header
keeps every other field as recorded and writes the real durations. Field layouts:
ISO/IEC 14496-12 §8.2.2 (mvhd), §8.3.2 (tkhd), §8.4.2 (mdhd).
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from device.errors import MediaFormatError
from device.media.boxes import children
from device.media.stbl import U32_MAX, box

# Fields before the duration, after version+flags: (version 0 widths, version 1 widths).
# mvhd/mdhd: creation, modification, timescale; tkhd: creation, modification, id, reserved.
MVHD_MDHD = ((4, 4, 4), (8, 8, 4))
TKHD = ((4, 4, 4, 4), (8, 8, 4, 4))

Edits = dict[bytes, Callable[[bytes], bytes]]


def rebuild(payload: bytes, edits: Edits, drop: frozenset[bytes] = frozenset()) -> bytes:
    """Re-emit each child box, passing the payloads named in ``edits`` through their edit
    and leaving out the kinds in ``drop``."""
    return b"".join(
        box(kind, edits[kind](p) if kind in edits else p)
        for kind, p in children(payload)
        if kind not in drop
    )


def timescale(header: bytes) -> int:
    """The timescale of an ``mvhd`` or ``mdhd`` payload."""
    return int(struct.unpack_from(">I", header, 20 if header[0] == 1 else 12)[0])


def track_id(tkhd: bytes) -> int:
    return int(struct.unpack_from(">I", tkhd, 20 if tkhd[0] == 1 else 12)[0])


def set_duration(
    payload: bytes, duration: int, widths: tuple[tuple[int, ...], tuple[int, ...]]
) -> bytes:
    """Write ``duration`` into a full box; a version 0 box too small for it becomes version 1."""
    old = payload[0]
    if old > 1:
        raise MediaFormatError(f"an MP4 header box has unknown version {old}")
    lead = struct.unpack_from(_layout(widths[old], old), payload, 4)[:-1]
    tail = payload[4 + struct.calcsize(_layout(widths[old], old)) :]
    new = 1 if old == 1 or duration > U32_MAX else 0
    return (
        bytes([new]) + payload[1:4] + struct.pack(_layout(widths[new], new), *lead, duration) + tail
    )


def _layout(lead: tuple[int, ...], version: int) -> str:
    """struct format of the fields up to and including the duration."""
    return ">" + "".join("Q" if w == 8 else "I" for w in lead) + ("Q" if version else "I")
