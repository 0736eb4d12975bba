"""Sample table boxes of a progressive MP4, written from numpy arrays.

Each function returns one whole box (ISO/IEC 14496-12 §8.6–8.7): ``stts`` decode
deltas and ``ctts`` composition offsets run-length coded, ``stss`` sync samples (none
when every sample is one), ``stsc`` samples per chunk (an entry where the count
changes), ``stsz`` sizes, ``stco``/``co64`` chunk offsets (``co64`` once an offset
passes 4 GiB), and ``elst`` edits. Tables for an hour's film are built in milliseconds.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from device.errors import MediaFormatError

U32_MAX = 0xFFFFFFFF
Array = npt.NDArray[Any]


def box(kind: bytes, payload: bytes) -> bytes:
    if 8 + len(payload) > U32_MAX:
        raise MediaFormatError(f"an MP4 {kind.decode()} box would be too large")
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full_box(kind: bytes, version: int, payload: bytes, flags: int = 0) -> bytes:
    return box(kind, struct.pack(">I", version << 24 | flags) + payload)


def _rle(values: Array) -> tuple[Array, Array]:
    """(run lengths, run values) of consecutive equal values."""
    if not len(values):
        return np.zeros(0, np.int64), values[:0]
    starts = np.concatenate(([0], np.flatnonzero(values[1:] != values[:-1]) + 1))
    return np.diff(np.append(starts, len(values))), values[starts]


def _pairs(kind: bytes, version: int, first: Array, second: Array, fmt: str = ">u4") -> bytes:
    table = np.empty((len(first), 2), fmt)
    table[:, 0], table[:, 1] = first, second
    return full_box(kind, version, struct.pack(">I", len(first)) + table.tobytes())


def stts(durations: Array) -> bytes:
    counts, values = _rle(durations)
    if len(values) and (values.min() < 0 or values.max() > U32_MAX):
        raise MediaFormatError("a sample of the film lasts an impossible time")
    return _pairs(b"stts", 0, counts, values)


def ctts(offsets: Array) -> bytes | None:
    """Composition offsets, or None when every sample is shown at its decode time."""
    if not offsets.any():
        return None
    counts, values = _rle(offsets)
    if values.min() < 0:  # version 1: signed offsets
        table = np.empty((len(values), 2), ">i4")
        table[:, 0], table[:, 1] = counts, values
        return full_box(b"ctts", 1, struct.pack(">I", len(values)) + table.tobytes())
    return _pairs(b"ctts", 0, counts, values)


def stss(sync: npt.NDArray[np.bool_]) -> bytes | None:
    """The 1-based numbers of the sync samples, or None when all are (sound)."""
    if sync.all():
        return None
    numbers = (np.flatnonzero(sync) + 1).astype(">u4")
    return full_box(b"stss", 0, struct.pack(">I", len(numbers)) + numbers.tobytes())


def stsc(counts: Array) -> bytes:
    """An entry (first chunk, samples per chunk, description 1) where the count changes."""
    runs, values = _rle(counts)
    first = np.concatenate(([0], np.cumsum(runs)[:-1])) + 1
    table = np.empty((len(values), 3), ">u4")
    table[:, 0], table[:, 1], table[:, 2] = first, values, 1
    return full_box(b"stsc", 0, struct.pack(">I", len(values)) + table.tobytes())


def stsz(sizes: Array) -> bytes:
    if len(sizes) and (sizes == sizes[0]).all():
        return full_box(b"stsz", 0, struct.pack(">II", int(sizes[0]), len(sizes)))
    return full_box(b"stsz", 0, struct.pack(">II", 0, len(sizes)) + sizes.astype(">u4").tobytes())


def chunk_offsets(offsets: Array, wide: bool) -> bytes:
    """``co64`` when ``wide`` (or needed), else ``stco``."""
    if not wide and len(offsets) and int(offsets.max()) > U32_MAX:
        wide = True
    kind, fmt = (b"co64", ">u8") if wide else (b"stco", ">u4")
    return full_box(kind, 0, struct.pack(">I", len(offsets)) + offsets.astype(fmt).tobytes())


def elst(edits: Sequence[tuple[int, int]]) -> bytes:
    """An edit list of (segment duration in the movie's timescale, media time or -1)."""
    wide = any(d > U32_MAX or not -(1 << 31) <= t < 1 << 31 for d, t in edits)
    fmt = ">QqHH" if wide else ">IiHH"
    body = b"".join(struct.pack(fmt, d, t, 1, 0) for d, t in edits)
    return full_box(b"elst", int(wide), struct.pack(">I", len(edits)) + body)


def read_elst(payload: bytes) -> list[tuple[int, int]]:
    """(segment duration, media time) of each entry of a recorded ``elst``."""
    version, (count,) = payload[0], struct.unpack_from(">I", payload, 4)
    fmt = ">Qq" if version == 1 else ">Ii"
    step = struct.calcsize(fmt) + 4  # + media_rate
    return [struct.unpack_from(fmt, payload, 8 + n * step) for n in range(count)]
