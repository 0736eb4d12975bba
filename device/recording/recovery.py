"""Sealing interrupted recordings, one at a time, safe to stop and run again at any step.

A film cut off by a power loss or a crash has no final age chunk. At start-up it is
marked *interrupted* and left exactly as it is. Once a key is at hand (the kit unlocked,
or the office key), it is sealed: its authenticated chunks are decrypted in memory, cut
at the last complete MP4 fragment so every player opens it, and re-encrypted under a
fresh file key into a proper age file. The untouched original is kept beside it.

The steps, each safe to be killed after and run again (the index says *interrupted*
until the last one):

1. the original moves aside to ``<id>.interrupted.mp4.age`` (a rename; from here on it
   is the only source and nothing ever writes, renames over or deletes it);
2. the sealed copy is written to a temp file and fsync'd;
3. the temp file is renamed to ``<id>.mp4.age`` (over a sealed copy of an earlier,
   killed run, never over the original);
4. the fragment index, then the index row (*recovered*, size, hash) and the audit line.

A film cut off before its first complete fragment (0 bytes, part of the age header, or
a header and no picture) has nothing to seal: it is recorded as *nothing was recorded*
(state ``empty``) and never stands in the way of the others. Sealing runs under a file
lock in the data folder (``flock``: between threads and processes alike), checks the
free space first, and stops (``SealPaused``) as soon as ``busy()`` says a recording runs.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from device import age
from device.errors import HeaderTruncated, SealPaused, StorageFull, VigKitError
from device.library import DataDir, HashingFile, Library, State, fsync_dir, write_encrypted
from device.media import FragmentIndex
from device.media.salvage import FilmSalvage, salvage_film, scan_tolerant

log = logging.getLogger(__name__)

LOCK_NAME = "sealing.lock"
SEALED, EMPTY, FAILED = "sealed", "empty", "failed"


@dataclass(frozen=True)
class SealReport:
    recording_id: str
    kept_s: float
    kept_bytes: int
    outcome: str = SEALED
    problem: str = ""
    lost_s: float = 0.0  # seconds left out where a part of the film was damaged


def never() -> bool:
    return False


def _nothing(step: str) -> None:
    pass


# Called after each step with its name. Only the tests set it: they kill the process
# there (a power cut at that point) and prove that a rerun finishes the job.
after_step: Callable[[str], None] = _nothing


@contextmanager
def seal_lock(data: DataDir) -> Iterator[None]:
    """One seal at a time. ``flock`` locks belong to an open file description, so two
    threads of one process exclude each other as two processes do; the kernel lets go
    when the holder dies, so a killed run never leaves the lock held."""
    fd = os.open(data.root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def seal_interrupted(
    library: Library,
    identities: Sequence[age.Identity],
    recipients: Sequence[age.Recipient],
    *,
    reserve_bytes: int = 0,
    busy: Callable[[], bool] = never,
) -> list[SealReport]:
    """Seal every interrupted film; one that cannot be sealed is reported and left for
    the next try, and does not stop the others (``SealPaused`` stops them all)."""

    def interrupted() -> list[str]:  # listed under the lock: a rerun sees what is left
        return [row.id for row in library.index.all(State.INTERRUPTED)]

    return each_film(library, interrupted, seal, identities, recipients, reserve_bytes, busy)


OneFilm = Callable[
    [Library, str, Sequence[age.Identity], Sequence[age.Recipient], int, Callable[[], bool]],
    SealReport,
]


def each_film(
    library: Library,
    films: Callable[[], list[str]],
    one: OneFilm,
    identities: Sequence[age.Identity],
    recipients: Sequence[age.Recipient],
    reserve_bytes: int,
    busy: Callable[[], bool],
) -> list[SealReport]:
    """``one`` for each of ``films()`` (listed under the lock), each reported; a failure
    does not stop the others (``SealPaused`` stops them all)."""
    reports = []
    with seal_lock(library.data):
        for rec_id in films():
            try:
                reports.append(one(library, rec_id, identities, recipients, reserve_bytes, busy))
            except SealPaused:
                raise
            except (VigKitError, OSError) as e:
                log.warning("could not seal or repair %s: %s", rec_id, e)
                problem = e.explain() if isinstance(e, VigKitError) else str(e)
                reports.append(SealReport(rec_id, 0.0, 0, FAILED, problem))
    return reports


def seal(
    library: Library,
    rec_id: str,
    identities: Sequence[age.Identity],
    recipients: Sequence[age.Recipient],
    reserve_bytes: int = 0,
    busy: Callable[[], bool] = never,
) -> SealReport:
    """Seal one interrupted film; call it holding ``seal_lock``."""
    data = library.data
    film, original = data.film(rec_id), data.interrupted_original(rec_id)
    if not original.exists():  # step 1 (done already if an earlier run was killed)
        if not film.exists():
            return _nothing_recorded(library, rec_id, "no film file was found")
        film.rename(original)
        fsync_dir(data.recordings)
        after_step("original moved aside")
    try:
        with original.open("rb") as src:
            index = scan_tolerant(age.Reader(src, identities, allow_unfinished=True))
    except HeaderTruncated:
        return _nothing_recorded(library, rec_id, "the film ends inside its header")
    if not index.fragments:
        return _nothing_recorded(library, rec_id, "the film ends before its first picture")
    check_room(library, rec_id, original.stat().st_size, reserve_bytes)
    size, sha, sealed = write_salvaged(data, rec_id, original, identities, recipients, busy)
    write_encrypted(data, rec_id, "index", sealed.index.to_json().encode(), recipients)
    after_step("fragment index written")
    length_s = round(sealed.kept_s + sealed.lost_s, 3)  # a gap plays as a held picture
    library.index.update(rec_id, state=State.RECOVERED, duration_s=length_s, size=size, sha256=sha)
    after_step("index updated")
    kept_bytes = _whole_length(sealed.index)
    damage = {"lost_s": sealed.lost_s, "gaps": sealed.gaps} if sealed.gaps else {}
    library.audit.append(
        "recording sealed", rec_id, kept_s=sealed.kept_s, kept_bytes=kept_bytes, **damage
    )
    return SealReport(rec_id, sealed.kept_s, kept_bytes, lost_s=sealed.lost_s)


def _nothing_recorded(library: Library, rec_id: str, why: str) -> SealReport:
    library.index.update(rec_id, state=State.EMPTY, duration_s=0.0, size=0)
    library.audit.append("nothing was recorded", rec_id, reason=why)
    return SealReport(rec_id, 0.0, 0, EMPTY, f"nothing was recorded: {why}")


def check_room(
    library: Library, rec_id: str, film_bytes: int, reserve_bytes: int, what: str = "interrupted"
) -> None:
    """The sealed copy is at most the original's size; the reserve stays free for the
    next recording (and SQLite), so a repair never fills the card."""
    free = library.free_bytes()
    if free < film_bytes + reserve_bytes:
        need_mb = -(-(film_bytes + reserve_bytes - free) // 1_000_000)
        raise StorageFull(
            f"there is not enough room on the card to repair the {what} film {rec_id}: "
            f"{need_mb} MB more must be free",
            hint="Sync the kit at the office (films already safe there can then be removed); "
            "the repair runs again at the next unlock. The original is kept as it is.",
        )


def write_salvaged(
    data: DataDir,
    rec_id: str,
    source: Path,
    identities: Sequence[age.Identity],
    recipients: Sequence[age.Recipient],
    busy: Callable[[], bool],
) -> tuple[int, str, FilmSalvage]:
    """Steps 2 and 3: a sealed copy of every intact fragment of ``source`` (never
    written), durable, under the film's name."""

    def before_each() -> None:
        if busy():
            raise SealPaused("a recording started: the repair waits for it to end")
        after_step("copying")

    tmp = data.recordings / f".{rec_id}.sealing"
    tmp.unlink(missing_ok=True)
    try:
        with source.open("rb") as src, HashingFile(tmp) as out:
            reader = age.Reader(src, identities, allow_unfinished=True)
            writer = age.Writer(out, recipients)
            film = salvage_film(reader, writer, before_each)
            writer.close()
            size, sha = out.size, out.sha256
    except BaseException:
        tmp.unlink(missing_ok=True)  # a temp file never outlives a failed or paused run
        raise
    after_step("sealed copy written")
    tmp.rename(data.film(rec_id))  # HashingFile.close fsync'd the data first
    fsync_dir(data.recordings)
    after_step("sealed copy renamed")
    return size, sha, film


def _whole_length(index: FragmentIndex) -> int:
    """Bytes up to the end of the last fragment."""
    last = index.fragments[-1]
    return last.offset + last.size
