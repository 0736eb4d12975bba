"""Move an MP4's ``moov`` in front of its ``mdat`` (what ``-movflags faststart`` does).

FFmpeg's own faststart re-opens the output by name for a second pass, which an
in-memory output does not have; a clip is built in memory anyway, so the move is done
here: the ``moov`` goes right after ``ftyp`` and every chunk offset in it (``stco`` /
``co64``) grows by the ``moov``'s size. A phone can then start playing a clip from its
first bytes, and ffprobe can read one from a pipe.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from device.errors import MediaFormatError

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def _boxes(
    data: bytes | bytearray | memoryview, start: int, end: int
) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, offset, header length, size) of each box in ``data[start:end]``."""
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        head = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, at + 8)
            head = 16
        elif size == 0:
            size = end - at
        if size < head or at + size > end:
            raise MediaFormatError(f"the clip's MP4 box {kind!r} is damaged")
        yield kind, at, head, size
        at += size


def _shift_offsets(moov: bytearray, start: int, end: int, shift: int) -> None:
    for kind, at, head, size in _boxes(moov, start, end):
        body = at + head
        if kind in _CONTAINERS:
            _shift_offsets(moov, body, at + size, shift)
        elif kind in (b"stco", b"co64"):
            (count,) = struct.unpack_from(">I", moov, body + 4)
            fmt, width = (">I", 4) if kind == b"stco" else (">Q", 8)
            for i in range(count):
                pos = body + 8 + width * i
                (value,) = struct.unpack_from(fmt, moov, pos)
                if kind == b"stco" and value + shift >= 1 << 32:
                    raise MediaFormatError("the clip is too large to move its header first")
                struct.pack_into(fmt, moov, pos, value + shift)


def moov_first_parts(mp4: bytes | memoryview) -> tuple[bytes | memoryview, ...]:
    """The same MP4 with its ``moov`` right after ``ftyp``, as parts to write in order
    (slices of ``mp4``, not copies, except the patched ``moov``)."""
    view = memoryview(mp4)
    boxes = list(_boxes(view, 0, len(view)))
    kinds = [b[0] for b in boxes]
    if b"moov" not in kinds or b"mdat" not in kinds or kinds.index(b"moov") < kinds.index(b"mdat"):
        return (view,)
    _, at, head, size = boxes[kinds.index(b"moov")]
    moov = bytearray(view[at : at + size])
    _shift_offsets(moov, head, size, size)
    parts: list[bytes | memoryview] = [] if b"ftyp" in kinds else [bytes(moov)]
    for kind, box_at, _, box_size in boxes:
        if kind == b"moov":
            continue
        parts.append(view[box_at : box_at + box_size])
        if kind == b"ftyp":
            parts.append(bytes(moov))
    return tuple(parts)


def moov_first(mp4: bytes) -> bytes:
    """The same MP4 with its ``moov`` right after ``ftyp`` (unchanged if already before mdat)."""
    return b"".join(moov_first_parts(mp4))
