"""Seal an unfinished age file (no final chunk) into a proper one.

Every complete, authenticated chunk is decrypted and re-encrypted under a fresh file
key, with a new header and a new payload nonce: no nonce is ever reused and the input is
never edited. The caller writes ``out`` to a new file and renames it into place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ._crypto import Identity, Recipient
from .reader import Reader, SeekableSource
from .stream import CHUNK_SIZE
from .writer import Output, Writer


class SalvageReport(NamedTuple):
    """What :func:`salvage` kept."""

    chunks_kept: int
    bytes_kept: int
    was_complete: bool  # the input already had its final chunk; it was copied whole


def salvage(
    src: SeekableSource,
    identities: Sequence[Identity],
    out: Output,
    recipients: Sequence[Recipient],
) -> SalvageReport:
    """Re-encrypt the complete chunks of ``src`` to ``recipients`` into ``out`` (left open)."""
    reader = Reader(src, identities, allow_unfinished=True)
    buf = memoryview(bytearray(CHUNK_SIZE))
    with Writer(out, recipients, close_output=False) as writer:
        while n := reader.readinto(buf):
            writer.write(buf[:n])
    return SalvageReport(reader.chunks, reader.size, reader.complete)
