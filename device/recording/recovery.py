"""Sealing interrupted recordings.

A film cut off by a power loss or a crash has no final age chunk. At start-up it is
marked *interrupted* and left exactly as it is. Once a key is at hand (the kit unlocked,
or the office key), it is sealed: its authenticated chunks are decrypted in memory, cut
at the last complete MP4 fragment so every player opens it, and re-encrypted under a
fresh file key into a proper age file. The untouched original is kept beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from device import age
from device.library import HashingFile, Library, State, fsync_dir, write_encrypted
from device.media import FragmentIndex, scan_file


@dataclass(frozen=True)
class SealReport:
    recording_id: str
    kept_s: float
    kept_bytes: int


def seal_interrupted(
    library: Library, identities: Sequence[age.Identity], recipients: Sequence[age.Recipient]
) -> list[SealReport]:
    return [
        seal(library, row.id, identities, recipients)
        for row in library.index.all(State.INTERRUPTED)
    ]


def seal(
    library: Library,
    rec_id: str,
    identities: Sequence[age.Identity],
    recipients: Sequence[age.Recipient],
) -> SealReport:
    data = library.data
    film, original = data.film(rec_id), data.interrupted_original(rec_id)
    # a crash between the two renames below leaves only the original: start from it
    source = film if film.exists() else original
    tmp = data.recordings / f".{rec_id}.sealing"
    tmp.unlink(missing_ok=True)
    with source.open("rb") as src, HashingFile(tmp) as out:
        reader = age.Reader(src, identities, allow_unfinished=True)
        index = scan_file(reader)
        whole = _whole_length(index)
        reader.seek(0)
        writer = age.Writer(out, recipients)
        _copy(reader, writer, whole)
        writer.close()
        sha = out.sha256
    if source == film:
        film.rename(original)
        fsync_dir(data.recordings)
    tmp.rename(film)
    fsync_dir(data.recordings)
    size = film.stat().st_size
    write_encrypted(data, rec_id, "index", index.to_json().encode(), recipients)
    kept_s = round(index.video_duration_s(), 3)
    library.index.update(rec_id, state=State.RECOVERED, duration_s=kept_s, size=size, sha256=sha)
    library.audit.append("recording sealed", rec_id, kept_s=kept_s, kept_bytes=whole)
    return SealReport(rec_id, kept_s, whole)


def _whole_length(index: FragmentIndex) -> int:
    """Bytes up to the end of the last complete fragment (or of the init segment)."""
    if not index.fragments:
        return index.init_offset + index.init_size
    last = index.fragments[-1]
    return last.offset + last.size


def _copy(src: age.Reader, dst: age.Writer, count: int) -> None:
    left = count
    while left > 0:
        block = src.read(min(left, 1 << 20))
        if not block:
            break
        dst.write(block)
        left -= len(block)
