"""Small I/O helpers shared by the reader, the writer and sequential decryption."""

from __future__ import annotations

from typing import Protocol

from device.errors import HeaderError, HeaderTruncated

from .format import MAX_HEADER, Header, parse_header


class Source(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Sink(Protocol):
    def write(self, data: bytes | bytearray | memoryview, /) -> int | None: ...


def write_all(out: Sink, data: bytes | bytearray | memoryview) -> None:
    """Write every byte, even to a raw file whose ``write`` may take only part."""
    view = memoryview(data)
    while view:
        n = out.write(view)
        if n is None:  # a non-blocking raw file that would block: nothing we can do well
            raise BlockingIOError("the output would block")
        view = view[n:]


def readinto_full(src: Source, buf: memoryview) -> int:
    """Fill ``buf`` from ``src``; fewer bytes only at the end of the input."""
    readinto = getattr(src, "readinto", None)
    got = 0
    while got < len(buf):
        if readinto is not None:
            n = readinto(buf[got:])
        else:
            data = src.read(len(buf) - got)
            n = len(data)
            buf[got : got + n] = data
        if not n:
            break
        got += n
    return got


class PrefixedSource:
    """Read ``prefix`` first, then ``src``: a header parser's leftover plus the rest."""

    def __init__(self, prefix: bytes, src: Source) -> None:
        self._prefix = memoryview(prefix)
        self._src = src

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes (at least one unless at the end): the header parser's call."""
        if self._prefix:
            take = len(self._prefix) if size < 0 else min(size, len(self._prefix))
            data = bytes(self._prefix[:take])
            self._prefix = self._prefix[take:]
            return data
        return self._src.read(size)

    def readinto(self, buf: memoryview) -> int:
        """Fill ``buf`` as far as the input allows; fewer bytes only at the end."""
        got = 0
        if self._prefix:
            got = min(len(self._prefix), len(buf))
            buf[:got] = self._prefix[:got]
            self._prefix = self._prefix[got:]
        return got + readinto_full(self._src, buf[got:])


class _LineSource:
    def __init__(self, src: Source) -> None:
        self._src = src
        self._buf = bytearray()
        self._pos = 0

    def next_line(self) -> bytes:
        while True:
            end = self._buf.find(b"\n", self._pos)
            if end >= 0:
                line = bytes(self._buf[self._pos : end + 1])
                self._pos = end + 1
                return line
            if len(self._buf) > MAX_HEADER:
                raise HeaderError("the header is implausibly long; this is not an age file")
            more = self._src.read(4096)
            if not more:
                what = "is empty" if not self._buf else "ends inside the header"
                raise HeaderTruncated(f"the file {what}")
            self._buf += more

    def leftover(self) -> bytes:
        return bytes(self._buf[self._pos :])


def read_header(src: Source) -> tuple[Header, bytes]:
    """Parse the header at the front of ``src``; also return the bytes read past it."""
    lines = _LineSource(src)
    header = parse_header(lines.next_line)
    return header, lines.leftover()
