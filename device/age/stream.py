"""The STREAM payload: 64 KiB chunks sealed with ChaCha20-Poly1305 (age's ``internal/stream``).

Chunk ``i`` is sealed under the nonce ``i`` (11 bytes, big-endian) followed by a flag
byte that is 1 only on the final chunk. The payload key is HKDF-SHA256 of the file key
with the file's random 16-byte nonce as salt and ``"payload"`` as info.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from ._crypto import TAG_SIZE, hkdf

CHUNK_SIZE = 64 * 1024
ENC_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
NONCE_SIZE = 16
_MAX_COUNTER = 1 << 88

Buffer = bytes | bytearray | memoryview


def payload_key(file_key: bytes, nonce: bytes) -> bytes:
    return hkdf(file_key, nonce, b"payload")


def chunk_nonce(index: int, last: bool) -> bytes:
    if not 0 <= index < _MAX_COUNTER:
        raise OverflowError("the file has more chunks than age allows")
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class ChunkCipher:
    """Seal and open single chunks in caller-owned buffers (no copies)."""

    def __init__(self, key: bytes) -> None:
        self._aead = ChaCha20Poly1305(key)

    def seal_into(self, index: int, last: bool, plain: Buffer, out: memoryview) -> memoryview:
        """Encrypt ``plain`` into the front of ``out``; return the sealed bytes' view."""
        size = len(plain) + TAG_SIZE
        self._aead.encrypt_into(chunk_nonce(index, last), plain, None, out[:size])
        return out[:size]

    def open_into(self, index: int, last: bool, sealed: Buffer, out: memoryview) -> int | None:
        """Decrypt ``sealed`` into the front of ``out``: its length, or None if it fails."""
        size = len(sealed) - TAG_SIZE
        if size < 0:
            return None
        try:
            self._aead.decrypt_into(chunk_nonce(index, last), sealed, None, out[:size])
        except InvalidTag:
            return None
        return size

    def open_either(
        self, index: int, sealed: Buffer, out: memoryview, *, final_first: bool = False
    ) -> tuple[int, bool] | None:
        """Open chunk ``index`` as a middle or the final chunk: (length, final?), or None.

        Only the key knows which one a full-size chunk is, so both are tried, the likelier
        first (``final_first`` for the last piece of a seekable file). A chunk shorter than
        a full one can only be the final chunk.
        """
        if len(sealed) < ENC_CHUNK_SIZE:
            tries: tuple[bool, ...] = (True,)
        else:
            tries = (True, False) if final_first else (False, True)
        for final in tries:
            size = self.open_into(index, final, sealed, out)
            if size is not None:
                return size, final
        return None
