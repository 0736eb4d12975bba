"""A seekable, read-only file object over an age file that decrypts only what is read.

Opening it authenticates the final chunk, so ``size`` is trustworthy before the first
read. The last chunk decrypted is cached (a player reading forward, or a muxer going
back to the same fragment, does not decrypt twice). With ``allow_unfinished=True`` a
file without its final chunk (power cut while recording) is served as far as its
complete, authenticated chunks go, and ``complete`` is False.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import BinaryIO

from device.errors import ChunkAuthError, HeaderError, PayloadError, TruncatedError

from ._crypto import TAG_SIZE, Identity
from ._io import read_header, readinto_full
from .armor import dearmor, looks_armored
from .envelope import open_header
from .stream import CHUNK_SIZE, ENC_CHUNK_SIZE, NONCE_SIZE, ChunkCipher, payload_key

SeekableSource = BinaryIO


class Reader(io.RawIOBase):
    """Random access to the plaintext of the age file in ``src`` (binary, seekable)."""

    def __init__(
        self,
        src: SeekableSource,
        identities: Sequence[Identity],
        *,
        allow_unfinished: bool = False,
        close_source: bool = False,
    ) -> None:
        super().__init__()
        self._close_source = close_source
        self._owner = src
        self._src, self._start = _unarmored(src)
        self._unfinished_ok = allow_unfinished
        header, _ = read_header(self._src)
        file_key = open_header(header, identities)
        self._data_start = self._start + len(header.encode()) + NONCE_SIZE
        self._src.seek(self._data_start - NONCE_SIZE)
        nonce = self._src.read(NONCE_SIZE)
        self._cipher = (
            ChunkCipher(payload_key(file_key, nonce)) if len(nonce) == NONCE_SIZE else None
        )
        if self._cipher is None and not allow_unfinished:
            raise HeaderError("the file ends before the payload's nonce")
        self._enc = memoryview(bytearray(ENC_CHUNK_SIZE))
        self._plain = memoryview(bytearray(CHUNK_SIZE))
        self._cached = -1
        self._cached_len = 0
        self._pos = 0
        self._chunks, self._last_len, self.complete = self._measure()
        self.size = (self._chunks - 1) * CHUNK_SIZE + self._last_len if self._chunks else 0

    # --- the file-object surface ------------------------------------------------------

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    @property
    def chunks(self) -> int:
        """How many chunks the plaintext spans (complete ones only, when unfinished)."""
        return self._chunks

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
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
            index, offset = divmod(self._pos, CHUNK_SIZE)
            chunk = self._chunk(index)
            n = min(len(chunk) - offset, len(view) - got)
            view[got : got + n] = chunk[offset : offset + n]
            got += n
            self._pos += n
        return got

    def chunk(self, index: int) -> memoryview | None:
        """The plaintext of chunk ``index`` (valid until the next read), or None if it
        does not authenticate: salvage goes on past a damaged chunk instead of stopping."""
        self._check_open()
        try:
            return self._chunk(index)
        except ChunkAuthError:
            return None

    def read(self, size: int | None = -1) -> bytes:
        self._check_open()
        left = max(self.size - self._pos, 0)
        want = left if size is None or size < 0 else min(size, left)
        buf = bytearray(want)
        n = self.readinto(buf)
        return bytes(buf) if n == want else bytes(buf[:n])

    def readall(self) -> bytes:
        return self.read()

    def close(self) -> None:
        if not self.closed and self._close_source:
            self._owner.close()
        super().close()

    # --- chunks ------------------------------------------------------------------------

    def _measure(self) -> tuple[int, int, bool]:
        """(chunk count, plaintext length of the last one, complete?) — authenticating it."""
        end = self._src.seek(0, io.SEEK_END)
        length = end - self._data_start
        if self._cipher is None or length <= 0:
            if not self._unfinished_ok:
                raise TruncatedError("the file has no encrypted parts after its header")
            return 0, 0, False
        count = -(-length // ENC_CHUNK_SIZE)
        tail = length - (count - 1) * ENC_CHUNK_SIZE
        final = self._load_either(count - 1, tail)
        if final is None:
            return self._drop_tail(count, tail)
        if final:
            if tail == TAG_SIZE and count > 1:
                raise PayloadError("the file's final part is empty, which age does not allow")
            return count, self._cached_len, True
        if not self._unfinished_ok:
            raise TruncatedError(f"the file ends after {count} parts without its final part")
        return count, CHUNK_SIZE, False

    def _drop_tail(self, count: int, tail: int) -> tuple[int, int, bool]:
        """The last piece does not open: a cut-off write (unfinished) or damage."""
        if not self._unfinished_ok:
            if tail == ENC_CHUNK_SIZE:
                raise ChunkAuthError(count - 1)
            raise TruncatedError(
                f"the file ends part-way through part {count - 1} (or it is damaged)"
            )
        # the chunk before it is not opened here: if it is damaged too, reading it says so
        # (and salvage goes on past it), rather than making the whole file unreadable
        return count - 1, CHUNK_SIZE if count > 1 else 0, False

    def _chunk(self, index: int) -> memoryview:
        if index != self._cached:
            last = self.complete and index == self._chunks - 1
            sealed = self._last_len + TAG_SIZE if last else ENC_CHUNK_SIZE
            if not self._load(index, sealed, last=last):
                raise ChunkAuthError(index)
        return self._plain[: self._cached_len]

    def _load(self, index: int, sealed_len: int, *, last: bool) -> bool:
        """Decrypt chunk ``index`` into the cache; False if it does not authenticate."""
        assert self._cipher is not None
        size = self._cipher.open_into(index, last, self._read(index, sealed_len), self._plain)
        if size is None:
            return False
        self._cached, self._cached_len = index, size
        return True

    def _load_either(self, index: int, sealed_len: int) -> bool | None:
        """Decrypt the file's last piece into the cache: final chunk?, None if neither."""
        assert self._cipher is not None
        sealed = self._read(index, sealed_len)
        opened = self._cipher.open_either(index, sealed, self._plain, final_first=True)
        if opened is None:
            return None
        self._cached, self._cached_len = index, opened[0]
        return opened[1]

    def _read(self, index: int, sealed_len: int) -> memoryview:
        self._cached = -1  # the buffers are about to change
        self._src.seek(self._data_start + index * ENC_CHUNK_SIZE)
        sealed = self._enc[:sealed_len]
        if readinto_full(self._src, sealed) != sealed_len:
            raise TruncatedError(f"the file became shorter while part {index} was read")
        return sealed

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("read from a closed age reader")


def _unarmored(src: SeekableSource) -> tuple[SeekableSource, int]:
    """``src`` and where the age file starts in it; armored files are decoded in memory."""
    origin = src.tell()
    head = src.read(2048)
    if looks_armored(head):
        return io.BytesIO(dearmor(head + src.read())), 0
    src.seek(origin)
    return src, origin
