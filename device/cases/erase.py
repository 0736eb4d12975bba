"""Erase now: a film, a cycle or a whole case, and the erase requests for the office.

Erasing removes every ciphertext file of each recording at once (film, interrupted
original, notes, markers, fragment index, thumbnails, clips, stills, half-written temp
files and its plain sync manifest), marks its index row ``deleted`` (the row keeps ids
and times only, so the office can tell an erased film from a lost one), writes an audit
row, and queues an erase request — opaque ids and dates only — that sync carries to the
office. The row is marked before any file goes: a power cut part-way leaves a
``deleted`` row whose remaining files :func:`finish_erasures` removes at the next start.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from device.cases.model import EraseRequest
from device.cases.registry import Registry
from device.errors import CaseError
from device.library import Library, State, check_recording_id, fsync_dir
from device.library.damaged import damaged_files
from device.library.room import with_room

OUTBOX_DIR = "outbox"  # where sync keeps its plain manifests (ids and hashes)


def recording_files(library: Library, rec_id: str) -> list[Path]:
    """Every file of one recording, temp files and damaged sidecars set aside included (a
    folder named like one is not the kit's: it is left alone, as sync leaves it)."""
    folder = library.data.recordings
    found = set(folder.glob(f"{check_recording_id(rec_id)}.*.age"))
    found |= set(folder.glob(f".{rec_id}.*.tmp"))
    found |= set(damaged_files(library.data, rec_id))
    found = {p for p in found if p.is_symlink() or not p.is_dir()}
    manifest = library.data.root / OUTBOX_DIR / f"{rec_id}.manifest.json"
    return sorted(found | ({manifest} if manifest.exists() else set()))


def erase_recordings(
    library: Library, rec_ids: Sequence[str], *, why: str, case_id: str = ""
) -> int:
    """Remove the recordings' files now; the number of files removed. On a card too full
    to note it in the index, the room kept for this is used (erasing is the way out)."""
    return with_room(library.data, lambda: _erase(library, rec_ids, why, case_id))


def _erase(library: Library, rec_ids: Sequence[str], why: str, case_id: str) -> int:
    removed = 0
    now = _now()
    if any(library.index.get(r).state == State.RECORDING for r in rec_ids):
        raise CaseError(  # checked first: nothing is erased, rather than half
            "a film of this is being recorded now", hint="Stop the recording, then erase."
        )
    for rec_id in rec_ids:
        library.index.update(rec_id, state=State.DELETED, erased_at=now, held=0)
        files = recording_files(library, rec_id)
        for path in files:
            path.unlink(missing_ok=True)
        removed += len(files)
        library.audit.append("erase now", rec_id, reason=why, files=len(files), case=case_id)
    fsync_dir(library.data.recordings)
    return removed


def queue_request(
    registry: Registry, kind: str, case_id: str, rec_ids: Sequence[str], cycle: int | None
) -> None:
    with registry.index.transaction() as db:
        db.execute(
            "INSERT INTO erase_requests (kind, case_id, recordings, cycle, requested_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (kind, case_id, json.dumps(list(rec_ids)), cycle, _now()),
        )
    registry.save_mirror()


def pending_requests(registry: Registry) -> list[EraseRequest]:
    """Erase requests not yet carried to the office, oldest first (for sync)."""
    return [r for r in all_requests(registry) if r.sent_at is None]


def all_requests(registry: Registry) -> list[EraseRequest]:
    """Every erase request, sent or not, oldest first: sync sends them all each time, so
    the office's copy keeps every request until the office has acted on it."""
    with registry.index.transaction() as db:
        rows = db.execute(
            "SELECT seq, kind, case_id, recordings, cycle, requested_at, sent_at"
            " FROM erase_requests ORDER BY seq"
        ).fetchall()
    return [
        EraseRequest(s, k, c, tuple(json.loads(r)), n, at, sent) for s, k, c, r, n, at, sent in rows
    ]


def mark_sent(registry: Registry, seqs: Sequence[int]) -> None:
    """Sync calls this once the office has the requests ``seqs`` (verified)."""
    now = _now()
    with registry.index.transaction() as db:
        db.executemany(
            "UPDATE erase_requests SET sent_at = ? WHERE seq = ?", [(now, s) for s in seqs]
        )
    registry.save_mirror()


def erase_film(library: Library, registry: Registry, rec_id: str) -> None:
    row = library.index.get(check_recording_id(rec_id))
    if row.state == State.DELETED:
        return
    erase_recordings(library, [rec_id], why="erased on request", case_id=row.case_id or "")
    queue_request(registry, "film", row.case_id or "", [rec_id], row.cycle)


def erase_cycle(library: Library, registry: Registry, case_id: str, cycle: int) -> list[str]:
    films = registry.films(case_id, cycle)
    erase_recordings(library, films, why=f"cycle {cycle} erased on request", case_id=case_id)
    queue_request(registry, "cycle", case_id, films, cycle)
    return films


def erase_case_films(library: Library, registry: Registry, case_id: str, why: str) -> list[str]:
    """Every film of the case erased and one request for the whole case queued; the case
    file itself is removed by the caller (:mod:`device.cases.actions`)."""
    films = registry.films(case_id)
    erase_recordings(library, films, why=why, case_id=case_id)
    queue_request(registry, "case", case_id, films, None)
    return films


def finish_erasures(library: Library) -> int:
    """At start-up: files left by an erasure a power cut interrupted."""
    removed = 0
    for row in library.index.all(State.DELETED):
        for path in recording_files(library, row.id):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
