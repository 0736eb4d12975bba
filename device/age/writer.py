"""An encrypting, write-only file object: bytes in, an age v1 file out.

It never seeks its output and never holds more than one 64 KiB chunk of plaintext:
a chunk is sealed as soon as the first byte after it arrives (only then is it known
not to be the last), and ``close`` seals the held chunk as the final one. A file whose
writer never closed has no final chunk; readers report it as unfinished and
:func:`~device.age.salvage.salvage` seals its complete chunks into a proper file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from types import TracebackType
from typing import Protocol

from ._crypto import Recipient
from ._io import Sink, Source, readinto_full, write_all
from .armor import ArmorWriter
from .envelope import seal_header
from .stream import CHUNK_SIZE, ENC_CHUNK_SIZE, NONCE_SIZE, Buffer, ChunkCipher, payload_key


class Output(Sink, Protocol):
    def flush(self) -> None: ...
    def close(self) -> None: ...


class Writer:
    """Encrypt to ``recipients`` into ``out`` (a binary file object, used write-only)."""

    def __init__(
        self,
        out: Output,
        recipients: Sequence[Recipient],
        *,
        armor: bool = False,
        close_output: bool = True,
    ) -> None:
        file_key, header = seal_header(recipients)
        nonce = os.urandom(NONCE_SIZE)
        self._out = out
        self._armor = ArmorWriter(out) if armor else None
        self._close_output = close_output
        self._cipher = ChunkCipher(payload_key(file_key, nonce))
        self._plain = bytearray(CHUNK_SIZE)  # the one chunk of plaintext we may hold
        self._spare: bytearray | None = None  # write_from's next chunk, read ahead
        self._fill = 0
        self._sealed = memoryview(bytearray(ENC_CHUNK_SIZE))
        self._index = 0
        self._written = 0
        self._closed = False
        self._broken = False
        self._emit(header + nonce)

    # --- the file-object surface ------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        """Plaintext bytes accepted so far (the position a muxer expects)."""
        return self._written

    def buffered(self) -> int:
        """Plaintext bytes held and not yet sealed (never more than one chunk)."""
        return self._fill

    def write(self, data: Buffer) -> int:
        """Take every byte of ``data``; seal whole chunks as soon as more data follows."""
        self._check_open()
        view = memoryview(data).cast("B")
        size, pos = len(view), 0
        if self._fill:
            pos = min(CHUNK_SIZE - self._fill, size)
            self._plain[self._fill : self._fill + pos] = view[:pos]
            self._fill += pos
            if self._fill == CHUNK_SIZE and pos < size:
                self._seal(memoryview(self._plain), last=False)
                self._fill = 0
        while size - pos > CHUNK_SIZE:  # whole chunks straight from the caller's buffer
            self._seal(view[pos : pos + CHUNK_SIZE], last=False)
            pos += CHUNK_SIZE
        if pos < size:
            self._plain[: size - pos] = view[pos:]
            self._fill = size - pos
        self._written += size
        return size

    def write_from(self, src: Source) -> int:
        """Encrypt everything ``src`` has left; return how many bytes that was.

        For encrypting a whole file: each chunk is read straight into the writer's own
        buffer (no copy through the caller's), and the next one into a spare buffer, so
        a full chunk is sealed as soon as it is known not to be the last.
        """
        self._check_open()
        if self._spare is None:
            self._spare = bytearray(CHUNK_SIZE)
        start = self._written
        while True:
            if self._fill < CHUNK_SIZE:  # top up the held chunk; short only at the end
                n = readinto_full(src, memoryview(self._plain)[self._fill :])
                self._fill += n
                self._written += n
                if self._fill < CHUNK_SIZE:
                    break
            n = readinto_full(src, memoryview(self._spare))
            if not n:
                break
            self._seal(memoryview(self._plain), last=False)
            self._plain, self._spare = self._spare, self._plain
            self._fill = n
            self._written += n
        return self._written - start

    def flush(self) -> None:
        self._check_open()
        self._out.flush()

    def sync(self) -> None:
        """Flush and ``fdatasync`` the output, so sealed chunks survive a power cut."""
        self.flush()
        fileno = getattr(self._out, "fileno", None)
        if fileno is not None:
            os.fdatasync(fileno())

    def close(self) -> None:
        """Seal the final chunk, finish the armor, and close the output (unless told not to)."""
        if self._closed:
            return
        if self._broken:
            self._finish()
            return
        self._seal(memoryview(self._plain)[: self._fill], last=True)
        self._fill = 0
        if self._armor is not None:
            self._armor.finish()
        self._finish()

    def abandon(self) -> None:
        """Stop without a final chunk: the file stays unfinished (as after a power cut)."""
        if not self._closed:
            self._finish()

    def __enter__(self) -> Writer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abandon()

    # --- internals ---------------------------------------------------------------------

    def _seal(self, plain: memoryview, *, last: bool) -> None:
        sealed = self._cipher.seal_into(self._index, last, plain, self._sealed)
        self._index += 1  # before writing: a failed write must never let a nonce be reused
        self._emit(sealed)

    def _emit(self, data: Buffer) -> None:
        try:
            if self._armor is not None:
                self._armor.write(data)
            else:
                write_all(self._out, data)
        except BaseException:
            self._broken = True  # part of a chunk may be out: nothing more can be appended
            raise

    def _finish(self) -> None:
        self._closed = True
        self._out.flush()
        if self._close_output:
            self._out.close()

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("write to a closed age writer")
        if self._broken:
            raise ValueError("an earlier write to this age file failed; it cannot be continued")
