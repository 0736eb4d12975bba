"""Salvage a damaged film by whole fragments: it plays to the end with a gap.

A flipped byte on the card spoils one 64 KiB age chunk (``device.age.salvage``); leaving
those bytes out of an MP4 would break it. Here the film is rebuilt from what the muxer
made self-contained: the init segment (``ftyp`` + ``moov``), then every fragment
(``moof`` + ``mdat``, with ``default_base_moof`` its sample offsets are its own) whose
bytes all authenticate. A fragment that touches a damaged chunk is left out, and so is
padding (``free`` boxes) and ``mfra``; each kept fragment's ``tfdt`` keeps its time, so
players show the gap and go on. The fragment index is found by scanning the film itself,
stepping over damage to the next ``moof`` (an interrupted film has no index file, and
the index file may be damaged too), and the rebuilt film's index is gathered as it is
written. Nothing is written anywhere but ``out``: the kit passes an encrypting writer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from device import age
from device.errors import ChunkAuthError, MediaFormatError
from device.media.boxes import box_header
from device.media.fragments import FragmentIndex, FragmentScanner, IndexingWriter, scan_on

_CHUNK = age.CHUNK_SIZE
_GAP_TICKS_S = 0.002  # a jump in time longer than this between fragments is a gap


def _nothing() -> None:
    pass


@dataclass(frozen=True)
class FilmSalvage:
    """What was kept: the rebuilt film's fragment index, its seconds, and the gaps left
    where fragments were lost (start and length in seconds from the film's start)."""

    index: FragmentIndex
    kept_s: float
    gaps: tuple[tuple[float, float], ...]

    @property
    def lost_s(self) -> float:
        return round(sum(length for _, length in self.gaps), 3)


def salvage_film(
    reader: age.Reader, out: Any, before_each: Callable[[], None] = _nothing
) -> FilmSalvage:
    """Write the init segment and every intact fragment of ``reader``'s film to ``out``
    (anything with ``write``); ``before_each`` fragment may raise to stop (the kit stops
    when a recording starts). MediaFormatError if the film's start itself is damaged."""
    index = scan_tolerant(reader)
    if not index.tracks or not index.fragments:
        raise MediaFormatError("the start of the film is damaged: no picture can be saved")
    init = _read(reader, index.init_offset, index.init_size)
    if init is None:
        raise MediaFormatError("the start of the film is damaged: no picture can be saved")
    tap = IndexingWriter(out)
    tap.write(init)
    for fragment in index.fragments:
        before_each()
        data = _read(reader, fragment.offset, fragment.size)
        if data is not None:
            tap.write(data)
    kept_s, gaps = _timeline(tap.index, index)
    return FilmSalvage(tap.index, kept_s, gaps)


def scan_tolerant(reader: age.Reader) -> FragmentIndex:
    """The film's fragment index, scanning on past damage from the next ``moof``."""
    scanner = FragmentScanner()
    source = _ChunkBounded(reader)
    reader.seek(0)
    resumed = False
    while True:
        try:
            scan_on(source, scanner, reader.size, _CHUNK)
            return scanner.index
        except ChunkAuthError as e:
            after = e.chunk + 1
        except MediaFormatError:
            if not resumed:  # the film itself is malformed, not damaged
                raise
            after = scanner.offset // _CHUNK + 1  # bytes that only looked like a moof
        found = _next_moof(reader, after)
        if found is None:
            return scanner.index
        scanner.resume_at(found)
        reader.seek(found)
        resumed = True


def _next_moof(reader: age.Reader, first: int) -> int | None:
    """Where the first ``moof`` box at or after chunk ``first`` starts (the kit starts
    each fragment just past a chunk boundary, but any place in a chunk is found)."""
    for index in range(first, reader.chunks):
        plain = reader.chunk(index)
        if plain is None:
            continue
        data = bytes(plain)
        at = data.find(b"moof", 4)
        while at >= 0:
            header = _header(data, at - 4)
            if header is not None and header[1] == b"moof" and data[at + 8 : at + 12] == b"mfhd":
                return index * _CHUNK + at - 4
            at = data.find(b"moof", at + 1)
    return None


def _header(data: bytes, at: int) -> tuple[int, bytes, int] | None:
    try:
        return box_header(data, at)
    except MediaFormatError:
        return None


def _read(reader: age.Reader, offset: int, size: int) -> bytes | None:
    """``size`` bytes at ``offset``, or None if any of their chunks is damaged."""
    reader.seek(offset)
    try:
        data = reader.read(size)
    except ChunkAuthError:
        return None
    return data if len(data) == size else None


def _timeline(
    kept: FragmentIndex, found: FragmentIndex
) -> tuple[float, tuple[tuple[float, float], ...]]:
    """Seconds kept, and each gap in the kept video's timeline (from the film's start)."""
    video, runs = kept.video, kept.video_runs()
    if video is None or not runs:
        return 0.0, ()
    scale = video.timescale
    origin = found.video_runs()[0].start if found.video_runs() else runs[0].start
    gaps = []
    if runs[0].start - origin > _GAP_TICKS_S * scale:
        gaps.append((0.0, (runs[0].start - origin) / scale))
    for before, after in pairwise(runs):
        end = before.start + before.duration
        if after.start - end > _GAP_TICKS_S * scale:
            gaps.append(((end - origin) / scale, (after.start - end) / scale))
    kept_s = sum(r.duration for r in runs) / scale
    return round(kept_s, 3), tuple((round(a, 3), round(n, 3)) for a, n in gaps)


class _ChunkBounded:
    """The reader, but no read crosses a chunk boundary: a scan that needs only the
    bytes before a damaged chunk gets them, and a read that fails names one chunk."""

    def __init__(self, reader: age.Reader) -> None:
        self._reader = reader

    def read(self, size: int = -1, /) -> bytes:
        at = self._reader.tell()
        room = _CHUNK - at % _CHUNK
        return self._reader.read(room if size < 0 else min(size, room))

    def readinto(self, buffer: bytearray | memoryview, /) -> int:
        return self._reader.readinto(buffer)

    def seek(self, offset: int, whence: int = 0, /) -> int:
        return self._reader.seek(offset, whence)

    def tell(self) -> int:
        return self._reader.tell()

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        """The reader belongs to the caller."""
