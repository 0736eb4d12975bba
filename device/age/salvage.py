"""Keep every authentic chunk of a damaged or unfinished age file.

Each 64 KiB chunk of an age file is authenticated on its own, so a flipped byte spoils
one chunk, not the file: ``age -d`` stops there, salvage goes on. :func:`copy_intact`
writes the plaintext of every chunk that authenticates, in order, and says which byte
ranges were lost; the last chunk's "last" flag still proves where the file ends (an
unfinished file, cut off by a power loss, has none and is kept as far as its complete
chunks go). :func:`salvage` does that into a new age file: every kept chunk is
re-encrypted under a fresh file key, with a new header and a new payload nonce, so no
nonce is ever reused and the input is never edited. Films are better salvaged by whole
fragments (``device.media.salvage``): a gap of 64 KiB inside an MP4 breaks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

from ._crypto import Identity, Recipient
from .reader import Reader, SeekableSource
from .stream import CHUNK_SIZE
from .writer import Output, Writer

ByteRange = tuple[int, int]  # [start, end) in the plaintext


class PlainSink(Protocol):
    def write(self, data: bytes | memoryview, /) -> object: ...


class SalvageReport(NamedTuple):
    """What :func:`salvage` kept, and the plaintext byte ranges it had to leave out."""

    chunks_kept: int
    bytes_kept: int
    was_complete: bool  # the input had its final chunk (its end is proven)
    lost: tuple[ByteRange, ...] = ()


def copy_intact(reader: Reader, out: PlainSink) -> SalvageReport:
    """Write the plaintext of every chunk of ``reader`` that authenticates to ``out``."""
    kept = kept_bytes = 0
    lost: list[ByteRange] = []
    for index in range(reader.chunks):
        start = index * CHUNK_SIZE
        plain = reader.chunk(index)
        if plain is None:
            end = min(start + CHUNK_SIZE, reader.size)
            if lost and lost[-1][1] == start:  # neighbours make one range
                start = lost.pop()[0]
            lost.append((start, end))
            continue
        out.write(plain)
        kept += 1
        kept_bytes += len(plain)
    return SalvageReport(kept, kept_bytes, reader.complete, tuple(lost))


def salvage(
    src: SeekableSource,
    identities: Sequence[Identity],
    out: Output,
    recipients: Sequence[Recipient],
) -> SalvageReport:
    """Re-encrypt the authentic chunks of ``src`` to ``recipients`` into ``out`` (left open)."""
    reader = Reader(src, identities, allow_unfinished=True)
    with Writer(out, recipients, close_output=False) as writer:
        return copy_intact(reader, writer)
