"""What the kit knows about sync: each file's last verified hash, each recording's state,
the last run's outcome, and the lock that lets one sync run at a time.

All of it lives in the index (``sync_files`` and ``meta``), so ``vigkit sync`` started by
the timer and the page's status read the same truth. None of it is personal data.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from device.errors import SyncBusy
from device.library import Index, Library, State

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def stamp(clock: Clock) -> str:
    return clock().astimezone(UTC).isoformat(timespec="seconds")


class SyncState(StrEnum):
    """A recording's sync state, as kept in the index's ``sync_state`` column."""

    NOT_SYNCED = ""
    SENDING = "sending"
    SYNCED = "synced"  # every file verified on the remote, manifest included
    FAILED = "failed"  # the last attempt did not finish; the next one carries on
    DAMAGED = "damaged"  # the film no longer matches its recorded hash: not sent as it is


WORDS = {
    SyncState.NOT_SYNCED: "Not sent to the office yet",
    SyncState.SENDING: "Sending to the office",
    SyncState.SYNCED: "Safe at the office",
    SyncState.FAILED: "Not sent yet: the last sync did not finish",
    SyncState.DAMAGED: "Not sent: damaged on the card after recording (see the film's page)",
}


@dataclass(frozen=True)
class RecordingSync:
    id: str
    state: SyncState
    words: str
    synced_at: str | None


@dataclass(frozen=True)
class SyncStatus:
    """For the page: is a sync running, how did the last one end, each recording's state."""

    running: bool
    last_run_at: str | None
    last_ok_at: str | None
    last_error: str  # plain words; empty when the last sync went well
    recordings: list[RecordingSync]


META_RUNNING = "sync_running"
META_LAST_RUN = "sync_last_run"
META_LAST_OK = "sync_last_ok"
META_LAST_ERROR = "sync_last_error"
META_AUDIT_SEQ = "sync_audit_seq"


def read_status(library: Library) -> SyncStatus:
    index = library.index
    running = SyncLock(library.data.root).held_elsewhere()
    recordings = []
    for row in index.all():
        if row.state in (State.RECORDING, State.ERASED, State.DELETED) or row.held:
            continue  # nothing to send (an Unassigned film is held on the kit)
        state = SyncState(row.sync_state) if row.sync_state in set(SyncState) else SyncState.FAILED
        if state == SyncState.SENDING and not running:  # that sync was killed
            state = SyncState.FAILED
        recordings.append(RecordingSync(row.id, state, WORDS[state], row.synced_at))
    return SyncStatus(
        running=running,
        last_run_at=index.meta(META_LAST_RUN),
        last_ok_at=index.meta(META_LAST_OK),
        last_error=index.meta(META_LAST_ERROR) or "",
        recordings=recordings,
    )


class SyncLock:
    """``.sync.lock`` in the data dir: one sync (or retention pass) at a time. Separate from
    the kit's ``.lock``, which ``vigkit run`` holds for its whole life."""

    def __init__(self, root: Path) -> None:
        self._path = root / ".sync.lock"
        self._fd = -1

    def acquire(self, wait_s: float = 0.0) -> None:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise SyncBusy("another sync is running on this kit") from None
                time.sleep(0.1)
        self._fd = fd

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def held_elsewhere(self) -> bool:
        if self._fd >= 0:
            return True
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def __enter__(self) -> SyncLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# --- per-file records -----------------------------------------------------------------


@dataclass(frozen=True)
class FileRecord:
    size: int
    mtime_ns: int
    sha256: str
    verified_at: str | None


def file_record(index: Index, recording: str, name: str) -> FileRecord | None:
    with index.transaction() as db:
        row = db.execute(
            "SELECT size, mtime_ns, sha256, verified_at FROM sync_files"
            " WHERE recording = ? AND name = ?",
            (recording, name),
        ).fetchone()
    return None if row is None else FileRecord(*row)


def save_hash(index: Index, recording: str, name: str, size: int, mtime_ns: int, sha: str) -> None:
    """Remember a file's hash; a new hash forgets any earlier verification."""
    with index.transaction() as db:
        db.execute(
            "INSERT INTO sync_files (recording, name, size, mtime_ns, sha256) VALUES (?,?,?,?,?)"
            " ON CONFLICT (recording, name) DO UPDATE SET size = excluded.size,"
            " mtime_ns = excluded.mtime_ns, verified_at = CASE WHEN sha256 = excluded.sha256"
            " THEN verified_at END, sha256 = excluded.sha256",
            (recording, name, size, mtime_ns, sha),
        )


def save_verified(index: Index, recording: str, name: str, sha: str, at: str) -> None:
    with index.transaction() as db:
        db.execute(
            "UPDATE sync_files SET verified_at = ? WHERE recording = ? AND name = ? AND sha256 = ?",
            (at, recording, name, sha),
        )


def forget_files(index: Index, recording: str) -> None:
    with index.transaction() as db:
        db.execute("DELETE FROM sync_files WHERE recording = ?", (recording,))


def set_running(index: Index, clock: Clock) -> str | None:
    """Mark a run as started; returns the start of an earlier run that never finished."""
    earlier = index.meta(META_RUNNING)
    index.set_meta(META_RUNNING, json.dumps({"pid": os.getpid(), "at": stamp(clock)}))
    index.set_meta(META_LAST_RUN, stamp(clock))
    if not earlier:
        return None
    return str(json.loads(earlier).get("at", "?"))


def set_finished(index: Index, clock: Clock, error: str) -> None:
    index.set_meta(META_RUNNING, "")
    index.set_meta(META_LAST_ERROR, error)
    if not error:
        index.set_meta(META_LAST_OK, stamp(clock))
