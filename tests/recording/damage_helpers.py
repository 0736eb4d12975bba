"""A byte flipped on the card: in the middle of one age chunk of a film, as a worn SD
card or a bad sector leaves it."""

from __future__ import annotations

import os
from pathlib import Path

ENC_CHUNK = 64 * 1024 + 16  # one sealed age chunk: plaintext and its tag


def payload_start(ciphertext: bytes) -> int:
    """Where chunk 0 starts: after the header's MAC line and the 16-byte nonce."""
    mac_line = ciphertext.index(b"\n--- ") + 1
    return ciphertext.index(b"\n", mac_line) + 1 + 16


def chunks_of(path: Path) -> int:
    data = path.read_bytes()
    return -(-(len(data) - payload_start(data)) // ENC_CHUNK)


def flip_byte(path: Path, chunk: int, at: int = 1000) -> None:
    """Flip one bit of byte ``at`` of chunk ``chunk``, in place (size and mtime as a
    card's own damage leaves them: the kit never wrote this)."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[payload_start(bytes(data)) + chunk * ENC_CHUNK + at] ^= 0x10
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
