"""A virtual file: header bytes made in memory, then byte ranges of the recorded film.

Playback serves a film as a progressive MP4 whose header is built in memory
(``device.media.progressive``) and whose ``mdat`` is the recorded samples; clips and
stills read a window of a few fragments (``device.media.window``). Both are a
``VirtualLayout`` (the immutable plan, shared) read through a ``VirtualMp4`` cursor over
its own source — in production an ``age.Reader`` decrypting just the chunks asked
for — so no plaintext is ever written anywhere.
"""

from __future__ import annotations

import bisect
import io
from dataclasses import dataclass

from device.errors import MediaFormatError
from device.media.source import RangeSource


@dataclass(frozen=True, slots=True)
class Span:
    """Bytes copied unchanged: ``size`` bytes at ``source`` appear at ``virtual``."""

    virtual: int
    source: int
    size: int


@dataclass(frozen=True, slots=True)
class VirtualLayout:
    """What a virtual file holds: header bytes made in memory, then spans of the recorded
    file. Built once per film (``device.media.progressive``) or per window (``window``)."""

    header: bytes
    init_size: int  # the ftyp + moov at the start of ``header``
    spans: tuple[Span, ...]
    size: int
    duration_s: float


class VirtualMp4(io.RawIOBase):
    """A seekable, read-only file over a ``VirtualLayout`` and the recorded file's source.

    Not thread safe (the source has one position): open one per request. With
    ``close_source=True`` closing it closes the source too (a response that owns both).
    """

    def __init__(
        self, layout: VirtualLayout, source: RangeSource, *, close_source: bool = False
    ) -> None:
        super().__init__()
        self.layout = layout
        self._source = source
        self._close_source = close_source
        self._starts = [span.virtual for span in layout.spans]
        self._pos = 0

    @property
    def size(self) -> int:
        return self.layout.size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check_open()
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("cannot seek before the start of the file")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        self._check_open()
        view = memoryview(buffer).cast("B")
        got = 0
        while got < len(view) and self._pos < self.size:
            n = self._read_some(view[got:])
            got += n
            self._pos += n
        return got

    def close(self) -> None:
        if not self.closed and self._close_source:
            self._source.close()
        super().close()

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on a closed virtual MP4")

    def _read_some(self, view: memoryview) -> int:
        """Fill the start of ``view`` from the header or from the one span at the position."""
        header = self.layout.header
        if self._pos < len(header):
            n = min(len(view), len(header) - self._pos)
            view[:n] = header[self._pos : self._pos + n]
            return n
        span = self.layout.spans[bisect.bisect_right(self._starts, self._pos) - 1]
        into = self._pos - span.virtual
        n = min(len(view), span.size - into)
        self._source.seek(span.source + into)
        got = self._source.readinto(view[:n]) or 0
        if got == 0:
            raise MediaFormatError("the recording ends before its fragment index says it does")
        return got


def read_exactly(source: RangeSource, offset: int, size: int) -> bytes:
    """``size`` bytes at ``offset``; a film that ends sooner is damaged."""
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    source.seek(offset)
    while got < size:
        n = source.readinto(view[got:]) or 0
        if n == 0:
            raise MediaFormatError("the recording ends inside its header")
        got += n
    return bytes(buffer)
