"""Whole-buffer helpers for small things (notes, indexes, keys): bytes in, bytes out."""

from __future__ import annotations

import io
from collections.abc import Sequence

from ._crypto import Identity, Recipient
from .decrypt import decrypt
from .writer import Writer


def encrypt_bytes(data: bytes, recipients: Sequence[Recipient], *, armor: bool = False) -> bytes:
    """``data`` as a complete age file."""
    out = io.BytesIO()
    with Writer(out, recipients, armor=armor, close_output=False) as writer:
        writer.write(data)
    return out.getvalue()


def decrypt_bytes(data: bytes, identities: Sequence[Identity]) -> bytes:
    """The plaintext of a complete age file held in memory (binary or armored)."""
    out = io.BytesIO()
    decrypt(io.BytesIO(data), identities, out)
    return out.getvalue()
