"""An encrypting writer whose first bytes may be rewritten until it closes.

A muxer that puts an MP4's ``moov`` first (so a phone plays from the first bytes)
reserves room for it at the start, streams the samples after it, and at the end seeks
back to fill the room in. :class:`HeadFirstWriter` takes exactly that: the first
``head_size`` bytes of plaintext stay in memory and may be written in any order; every
byte after them streams out as soon as a whole 64 KiB chunk is known not to be the last
(like :class:`~device.age.Writer`). On ``close`` the held head is sealed into the room
left for it at the start of the file. Memory stays at the head plus two chunks, however
long the stream; the plaintext is never on disk. Each chunk is sealed exactly once
(age's nonces are per chunk), so writing chunks out of order changes nothing in the file.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import Protocol

from ._crypto import Recipient
from ._io import Sink, write_all
from .envelope import seal_header
from .stream import CHUNK_SIZE, ENC_CHUNK_SIZE, NONCE_SIZE, Buffer, ChunkCipher, payload_key


class SeekableOutput(Sink, Protocol):
    def seek(self, offset: int, whence: int = 0, /) -> int: ...
    def tell(self) -> int: ...


class HeadFirstWriter:
    """Encrypt to ``recipients`` into the seekable ``out``; bytes below ``head_size``
    (a whole number of chunks) may be rewritten, the rest only appended."""

    def __init__(
        self, out: SeekableOutput, recipients: Sequence[Recipient], head_size: int
    ) -> None:
        if head_size <= 0 or head_size % CHUNK_SIZE:
            raise ValueError("the head must be a whole number of 64 KiB chunks")
        file_key, header = seal_header(recipients)
        nonce = os.urandom(NONCE_SIZE)
        self._cipher = ChunkCipher(payload_key(file_key, nonce))
        self._out = out
        write_all(out, header + nonce)
        self._payload_at = out.tell()
        self._head = bytearray(head_size)
        self._head_end = 0  # the furthest head byte written
        self._tail = bytearray()  # plaintext after the head, not yet sealed
        self._end = head_size  # plaintext offset after the last byte appended
        self._next = head_size // CHUNK_SIZE  # the next tail chunk's index
        self._pos = 0
        self._sealed = memoryview(bytearray(ENC_CHUNK_SIZE))
        self._closed = False

    # --- the file-object surface a muxer uses -------------------------------------------

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        end = self._end if self._streaming else self._head_end
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: end}[whence]
        if base + offset < 0:
            raise ValueError("seek before the start of the file")
        self._pos = base + offset
        return self._pos

    def write(self, data: Buffer) -> int:
        if self._closed:
            raise ValueError("write to a closed age writer")
        view = memoryview(data).cast("B")
        size = len(view)
        if self._pos < len(self._head):
            take = min(size, len(self._head) - self._pos)
            self._head[self._pos : self._pos + take] = view[:take]
            self._pos += take
            self._head_end = max(self._head_end, self._pos)
            view = view[take:]
        if view:
            if self._pos != self._end:
                raise io.UnsupportedOperation("only the start of this file can be rewritten")
            self._tail += view
            self._pos = self._end = self._end + len(view)
            while len(self._tail) > CHUNK_SIZE:  # a byte follows: this chunk is not the last
                self._emit_tail(memoryview(self._tail)[:CHUNK_SIZE], last=False)
                del self._tail[:CHUNK_SIZE]
        return size

    def flush(self) -> None:
        pass  # the output is flushed by its owner (an atomic writer syncs it)

    def close(self) -> None:
        """Seal the last chunk, then the head into the room at the start of the file."""
        if self._closed:
            return
        self._closed = True
        if self._streaming:
            self._emit_tail(memoryview(self._tail), last=True)
            self._tail = bytearray()
            head = memoryview(self._head)
        else:
            head = memoryview(self._head)[: self._head_end]
        end = self._out.tell()
        self._out.seek(self._payload_at)
        chunks = max(1, -(-len(head) // CHUNK_SIZE))
        for i in range(chunks):
            last = i == chunks - 1 and not self._streaming
            plain = head[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE]
            write_all(self._out, self._cipher.seal_into(i, last, plain, self._sealed))
        self._out.seek(max(end, self._out.tell()))
        self._head = bytearray()

    # --- internals -----------------------------------------------------------------------

    @property
    def _streaming(self) -> bool:
        """Whether any byte went past the head (then the head is whole chunks, none last)."""
        return self._end > len(self._head)

    def _emit_tail(self, plain: memoryview, *, last: bool) -> None:
        if self._next == len(self._head) // CHUNK_SIZE:  # the first: leave the head's room
            self._out.seek(self._payload_at + self._next * ENC_CHUNK_SIZE)
        sealed = self._cipher.seal_into(self._next, last, plain, self._sealed)
        self._next += 1  # before writing: a failed write must never let a nonce be reused
        write_all(self._out, sealed)
