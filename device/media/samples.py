"""Per-sample tables of a fragmented MP4, read from its ``moof`` boxes with numpy.

A progressive MP4 needs every sample's size, duration, composition offset, sync flag
and place in the file. A fragmented one states them in each fragment's ``traf``
(``tfhd`` defaults, ``tfdt`` start, ``trun`` per-sample fields; ISO/IEC 14496-12
§8.8.7–8.8.12). ``parse_traf`` reads one ``traf`` into a ``RunSamples``; the fragment
scanner gathers them per track into ``TrackSamples`` while the film is recorded (or
scanned after a power cut), and the index keeps them, so playback never has to read
the film's fragments to plan its header. Each run is one chunk of the progressive file:
its samples lie back to back at ``offset``.
"""

from __future__ import annotations

import base64
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from device.errors import MediaFormatError
from device.media.boxes import TrackRun, children, find

# sample_is_non_sync_sample in the 32-bit sample flags (ISO/IEC 14496-12 §8.8.3.1)
NON_SYNC = 0x00010000
_TRUN_FIELDS = (0x100, 0x200, 0x400, 0x800)  # duration, size, flags, composition offset

U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class RunSamples:
    """One track run: where its samples start in the file, when, and each sample."""

    track_id: int
    start: int  # tfdt: decode time of the first sample, in the track's timescale
    offset: int  # file offset of the first sample's data
    sizes: U32
    durations: U32
    cts: I64  # composition offsets
    sync: npt.NDArray[np.bool_]

    @property
    def data_size(self) -> int:
        return int(self.sizes.sum(dtype=np.int64))


def parse_traf(
    traf: bytes, trex: dict[int, tuple[int, int]], moof_at: int, previous_end: int | None
) -> list[RunSamples]:
    """The runs of one ``traf``; ``previous_end`` is where the previous traf's data ended
    (the base offset of a traf that names none and is not the moof's first)."""
    tfhd = _first(traf, b"tfhd")
    flags = int.from_bytes(tfhd[1:4], "big")
    track_id = struct.unpack_from(">I", tfhd, 4)[0]
    duration, sample_flags = trex.get(track_id, (0, 0))
    size, at = 0, 8
    if flags & 0x01:
        base = struct.unpack_from(">Q", tfhd, at)[0]
        at += 8
    else:
        base = moof_at if flags & 0x020000 or previous_end is None else previous_end
    at += 4 if flags & 0x02 else 0
    if flags & 0x08:
        duration = struct.unpack_from(">I", tfhd, at)[0]
        at += 4
    if flags & 0x10:
        size = struct.unpack_from(">I", tfhd, at)[0]
        at += 4
    if flags & 0x20:
        sample_flags = struct.unpack_from(">I", tfhd, at)[0]
    tfdt = _all(traf, b"tfdt")
    start = struct.unpack_from(">Q" if tfdt[0][0] == 1 else ">I", tfdt[0], 4)[0] if tfdt else 0
    runs: list[RunSamples] = []
    for trun in _all(traf, b"trun"):
        run = _parse_trun(trun, track_id, start, base, (duration, size, sample_flags))
        runs.append(run)
        base, start = run.offset + run.data_size, start + int(run.durations.sum(dtype=np.int64))
    return runs


def parse_moof(moof: bytes, trex: dict[int, tuple[int, int]], moof_at: int = 0) -> list[RunSamples]:
    """Every track run of a movie fragment whose ``moof`` starts at file offset ``moof_at``."""
    runs: list[RunSamples] = []
    for traf in find(moof, b"traf"):
        runs += parse_traf(
            traf, trex, moof_at, runs[-1].offset + runs[-1].data_size if runs else None
        )
    return runs


def summarize(runs: list[RunSamples]) -> list[TrackRun]:
    """One TrackRun per track of a fragment: its start, duration, and first sample's sync."""
    out: dict[int, TrackRun] = {}
    for run in runs:
        duration = int(run.durations.sum(dtype=np.int64))
        old = out.get(run.track_id)
        if old is None:
            key = bool(run.sync[0]) if len(run.sync) else False
            out[run.track_id] = TrackRun(run.track_id, run.start, duration, key)
        else:
            out[run.track_id] = TrackRun(
                old.track_id, old.start, old.duration + duration, old.keyframe
            )
    return list(out.values())


def _parse_trun(
    trun: bytes, track_id: int, start: int, base: int, defaults: tuple[int, int, int]
) -> RunSamples:
    version, flags = trun[0], int.from_bytes(trun[1:4], "big")
    (count,) = struct.unpack_from(">I", trun, 4)
    at, offset = 8, base
    if flags & 0x001:
        offset = base + struct.unpack_from(">i", trun, at)[0]
        at += 4
    first_flags = None
    if flags & 0x004:
        first_flags = struct.unpack_from(">I", trun, at)[0]
        at += 4
    present = [bit for bit in _TRUN_FIELDS if flags & bit]
    if len(trun) < at + 4 * len(present) * count:
        raise MediaFormatError("an MP4 track run is shorter than its sample count")
    table = np.frombuffer(trun, ">u4", count * len(present), at).reshape(count, len(present))
    column = {bit: table[:, i] for i, bit in enumerate(present)}

    def values(bit: int, default: int) -> U32:
        got = column.get(bit)
        return np.full(count, default, np.uint32) if got is None else got.astype(np.uint32)

    sample_flags = values(0x400, defaults[2])
    if first_flags is not None and count:
        sample_flags[0] = first_flags
    cts = column.get(0x800)
    return RunSamples(
        track_id,
        start,
        offset,
        values(0x200, defaults[1]),
        values(0x100, defaults[0]),
        np.zeros(count, np.int64) if cts is None else _cts(cts, version),
        (sample_flags & NON_SYNC) == 0,
    )


def _cts(raw: npt.NDArray[Any], version: int) -> I64:
    """Composition offsets: unsigned in a version 0 trun, signed in version 1."""
    return (
        raw.astype(np.uint32).view(np.int32).astype(np.int64) if version else raw.astype(np.int64)
    )


def _all(parent: bytes, kind: bytes) -> list[bytes]:

    return [payload for k, payload in children(parent) if k == kind]


def _first(parent: bytes, kind: bytes) -> bytes:
    found = _all(parent, kind)
    if not found:
        raise MediaFormatError(f"an MP4 track fragment has no {kind.decode()} box")
    return found[0]


@dataclass(frozen=True, slots=True, eq=False)
class SampleTable:
    """One track's samples over the whole film, and its chunks (one per run), in file order."""

    offsets: I64  # per chunk: file offset of its first sample
    counts: I64  # per chunk: samples in it
    starts: I64  # per chunk: decode time of its first sample (tfdt)
    sizes: U32
    durations: U32
    cts: I64
    sync: npt.NDArray[np.bool_]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SampleTable) and all(
            np.array_equal(getattr(self, name), getattr(other, name)) for name in self.__slots__
        )

    __hash__ = None  # type: ignore[assignment]

    def to_json(self) -> dict[str, str]:
        return {
            "offsets": _pack(self.offsets.astype("<u8")),
            "counts": _pack(self.counts.astype("<u4")),
            "starts": _pack(self.starts.astype("<u8")),
            "sizes": _pack(self.sizes.astype("<u4")),
            "durations": _pack(self.durations.astype("<u4")),
            "cts": _pack(self.cts.astype("<i4")),
            "sync": _pack(self.sync.astype("u1")),
        }

    @classmethod
    def from_json(cls, data: dict[str, str]) -> SampleTable:
        table = cls(
            _unpack(data["offsets"], "<u8").astype(np.int64),
            _unpack(data["counts"], "<u4").astype(np.int64),
            _unpack(data["starts"], "<u8").astype(np.int64),
            _unpack(data["sizes"], "<u4").astype(np.uint32),
            _unpack(data["durations"], "<u4").astype(np.uint32),
            _unpack(data["cts"], "<i4").astype(np.int64),
            _unpack(data["sync"], "u1").astype(bool),
        )
        chunks, samples = len(table.offsets), int(table.counts.sum())
        if (
            len(table.counts) != chunks
            or len(table.starts) != chunks
            or any(len(a) != samples for a in (table.sizes, table.durations, table.cts, table.sync))
        ):
            raise MediaFormatError("the fragment index's sample tables do not agree")
        return table


class TrackSamples:
    """Gathers one track's runs as fragments complete; ``table()`` joins them (cached).

    Built from an index's stored table, it starts from that table.
    """

    def __init__(self, table: SampleTable | None = None) -> None:
        self._runs: list[RunSamples] = []
        self._base = table
        self._table = table

    def add(self, run: RunSamples) -> None:
        if len(run.sizes):
            self._runs.append(run)
            self._table = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrackSamples) and self.table() == other.table()

    __hash__ = None  # type: ignore[assignment]

    def table(self) -> SampleTable:
        if self._table is None:
            self._table = _join(self._base, self._runs)
        return self._table


def _join(base: SampleTable | None, runs: list[RunSamples]) -> SampleTable:
    def column(name: str, dtype: Any) -> npt.NDArray[Any]:
        parts = [getattr(base, name)] if base is not None else []
        parts += [getattr(r, name) for r in runs]
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    def per_chunk(name: str, values: list[int]) -> I64:
        head = [getattr(base, name)] if base is not None else []
        return np.concatenate([*head, np.array(values, np.int64)]).astype(np.int64)

    return SampleTable(
        per_chunk("offsets", [r.offset for r in runs]),
        per_chunk("counts", [len(r.sizes) for r in runs]),
        per_chunk("starts", [r.start for r in runs]),
        column("sizes", np.uint32),
        column("durations", np.uint32),
        column("cts", np.int64),
        column("sync", bool),
    )


def _pack(array: npt.NDArray[Any]) -> str:
    return base64.b64encode(zlib.compress(array.tobytes(), 1)).decode("ascii")


def _unpack(text: str, dtype: str) -> npt.NDArray[Any]:
    try:
        return np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype)
    except (ValueError, zlib.error) as e:
        raise MediaFormatError("the fragment index's sample tables are damaged") from e
