"""Sequential decryption: read an age file front to back, release each chunk as it opens.

For input that cannot seek (a pipe, stdin). Plaintext is written chunk by chunk, so when
a later chunk fails, the good chunks before it have already been released — exactly
what age does and what the C2SP test vectors expect.
"""

from __future__ import annotations

from collections.abc import Sequence

from device.errors import ChunkAuthError, HeaderError, PayloadError, TruncatedError

from ._crypto import TAG_SIZE, Identity
from ._io import PrefixedSource, Sink, Source, read_header, write_all
from .armor import dearmor, looks_armored
from .envelope import open_header
from .stream import CHUNK_SIZE, ENC_CHUNK_SIZE, NONCE_SIZE, ChunkCipher, payload_key

_PEEK = 2048


def decrypt(
    src: Source, identities: Sequence[Identity], out: Sink, *, armored: bool | None = None
) -> int:
    """Decrypt ``src`` into ``out``; return the plaintext size.

    ``armored`` None means: detect ASCII armor from the first bytes.
    """
    payload, cipher = open_payload(src, identities, armored=armored)
    enc = memoryview(bytearray(ENC_CHUNK_SIZE))
    plain = memoryview(bytearray(CHUNK_SIZE))
    index = total = 0
    while True:
        got = payload.readinto(enc)
        size, last = _open_chunk(cipher, index, enc[:got], plain)
        write_all(out, plain[:size])
        total += size
        index += 1
        if last:
            if payload.readinto(memoryview(bytearray(1))):
                raise PayloadError("there is data after the file's final part")
            return total


def open_payload(
    src: Source, identities: Sequence[Identity], *, armored: bool | None = None
) -> tuple[PrefixedSource, ChunkCipher]:
    """Parse and open the header; return the payload (after its nonce) and its cipher."""
    head = src.read(_PEEK)
    if armored or (armored is None and looks_armored(head)):
        rest = src.read()
        source = PrefixedSource(dearmor(head + rest), src)
    else:
        source = PrefixedSource(head, src)
    header, leftover = read_header(source)
    file_key = open_header(header, identities)
    payload = PrefixedSource(leftover, source)
    nonce = bytearray(NONCE_SIZE)
    if payload.readinto(memoryview(nonce)) != NONCE_SIZE:
        raise HeaderError("the file ends before the payload's nonce")
    return payload, ChunkCipher(payload_key(file_key, bytes(nonce)))


def _open_chunk(
    cipher: ChunkCipher, index: int, sealed: memoryview, plain: memoryview
) -> tuple[int, bool]:
    """Open chunk ``index``: (plaintext size, whether it is the final chunk)."""
    if not sealed:
        raise TruncatedError(f"the file ends after {index} complete parts without its final part")
    if index and len(sealed) == TAG_SIZE:
        raise PayloadError("the file's final part is empty, which age does not allow")
    opened = cipher.open_either(index, sealed, plain)
    if opened is not None:
        return opened
    if len(sealed) < ENC_CHUNK_SIZE:
        raise TruncatedError(f"the file ends part-way through part {index} (or it is damaged)")
    raise ChunkAuthError(index)
