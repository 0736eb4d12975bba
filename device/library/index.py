"""The kit's SQLite index: recordings and their state. No personal data lives here.

Ordering uses our own counter (``seq``), not wall time: a Pi with no RTC may boot with a
wrong clock. One connection, guarded by a lock, shared by the recorder and
the web threads; WAL with synchronous=FULL so a committed row survives a power cut.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from device.errors import CardFull, LibraryError, NotFound, RecordingError, is_card_full

SCHEMA = """
CREATE TABLE IF NOT EXISTS recordings (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    started_at TEXT NOT NULL,
    started_mono_us INTEGER NOT NULL,
    state TEXT NOT NULL,
    duration_s REAL NOT NULL DEFAULT 0,
    size INTEGER NOT NULL DEFAULT 0,
    sha256 TEXT NOT NULL DEFAULT '',
    has_audio INTEGER NOT NULL DEFAULT 1,
    mic_lost INTEGER NOT NULL DEFAULT 0,
    camera_restarts INTEGER NOT NULL DEFAULT 0,
    dropped_frames INTEGER NOT NULL DEFAULT 0,
    stop_reason TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS sync_files (
    recording TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    verified_at TEXT,
    PRIMARY KEY (recording, name)
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    recording TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}',
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
"""

# Columns added after the first release: (name, declaration). Added in place when missing,
# so a kit's existing index keeps its rows.
ADDED_COLUMNS = (
    ("erase_by", "TEXT"),  # consent's erase-by date (ISO), or NULL
    ("review_done", "INTEGER NOT NULL DEFAULT 0"),  # shared review marked done
    ("sync_state", "TEXT NOT NULL DEFAULT ''"),  # see device.sync.state.SyncState
    ("synced_at", "TEXT"),  # when every file was last verified on the remote (UTC)
    ("erased_at", "TEXT"),  # when retention removed the files (UTC)
    ("case_id", "TEXT"),  # the case's opaque id (device.cases), or NULL
    ("cycle", "INTEGER"),  # the cycle of that case the film belongs to
    ("held", "INTEGER NOT NULL DEFAULT 0"),  # Unassigned: kept on the kit, never sent
)


_ROOM_TO_OPEN = 1 << 20  # the -wal and -shm files SQLite makes on opening, with margin


class State(StrEnum):
    RECORDING = "recording"  # being written now (or the kit died while it was)
    COMPLETE = "complete"  # finished normally
    INTERRUPTED = "interrupted"  # found unfinished at start-up; original untouched
    RECOVERED = "recovered"  # interrupted, then sealed by salvage
    ERASED = "erased"  # its files were removed by retention; the row stays (no personal data)
    EMPTY = "empty"  # interrupted before its first picture: nothing was recorded
    DELETED = "deleted"  # erased now, on request (device.cases): the office erases it too


FINISHED = (State.COMPLETE, State.RECOVERED)  # films that can be played and cut


def require_finished(state: State, hint: str) -> None:
    """Refuse, in words, to open a film that is not (or no longer) a whole film on the kit."""
    if state in FINISHED:
        return
    if state == State.DELETED:
        raise RecordingError("this film was erased on request", hint="It cannot be opened again.")
    if state == State.ERASED:
        raise RecordingError(
            "this film has been removed from the kit after its safe copy reached the office",
            hint="The office can open it from its own storage.",
        )
    if state == State.EMPTY:
        raise RecordingError(
            "nothing was recorded: the kit stopped (a power cut?) before the first picture",
            hint="The list of recordings shows every film that has pictures.",
        )
    raise RecordingError(
        "this film is still being recorded"
        if state == State.RECORDING
        else "this film was interrupted and has not been recovered yet",
        hint=hint,
    )


def require_assigned(held: bool) -> None:
    """Refuse to cut or show in a review a film held as Unassigned (not in a case)."""
    if held:
        raise RecordingError(
            "this film is not in a case yet, so it cannot be clipped or shown in a review",
            hint="Assign it to a case with consent first (Assign to a case), or erase it.",
        )


@dataclass(frozen=True)
class RecordingRow:
    id: str
    seq: int
    started_at: str
    started_mono_us: int
    state: State
    duration_s: float
    size: int
    sha256: str
    has_audio: bool
    mic_lost: bool
    camera_restarts: int
    dropped_frames: int
    stop_reason: str
    erase_by: str | None = None
    review_done: bool = False
    sync_state: str = ""
    synced_at: str | None = None
    erased_at: str | None = None
    case_id: str | None = None
    cycle: int | None = None
    held: bool = False


_COLUMNS = [f.name for f in fields(RecordingRow)]


class Index:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
            self._add_missing_columns()
        except sqlite3.Error as e:
            check_not_full(path, e)
            raise LibraryError(
                f"the kit's index {path} cannot be opened: {e}",
                hint="If the card was damaged, copy recordings/ off and run vigkit setup again.",
            ) from e
        self._lock = threading.RLock()

    def _add_missing_columns(self) -> None:
        # inside one write transaction: another process (vigkit sync) may open it too
        self._db.execute("BEGIN IMMEDIATE")
        try:
            have = {r[1] for r in self._db.execute("PRAGMA table_info(recordings)")}
            for name, decl in ADDED_COLUMNS:
                if name not in have:
                    self._db.execute(f"ALTER TABLE recordings ADD COLUMN {name} {decl}")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def set_erase_by(self, rec_id: str, erase_by: date | None) -> None:
        """The consent's erase-by date: retention removes the files on that day."""
        self.update(rec_id, erase_by=erase_by.isoformat() if erase_by else None)

    def set_review_done(self, rec_id: str, done: bool) -> None:
        """Shared review done: a synced, verified film may then go before its grace period."""
        self.update(rec_id, review_done=int(done))

    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def kit_id(self) -> str:
        """This kit's id (random, no name in it), made on first use: it names the kit's
        folder on the office remote and appears in manifests."""
        with self.transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'kit_id'").fetchone()
            if row is not None:
                return str(row[0])
            kit_id = f"kit-{secrets.token_hex(4)}"
            db.execute("INSERT INTO meta (key, value) VALUES ('kit_id', ?)", (kit_id,))
            return kit_id

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; a card that takes no more raises :class:`CardFull`
        (the transaction is rolled back whole, the index stays as it was)."""
        with self._lock, _index_full():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")  # a full card may refuse the commit itself
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def add(self, rec_id: str, started_at: str, started_mono_us: int, has_audio: bool) -> None:
        with self.transaction() as db:
            (seq,) = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM recordings").fetchone()
            db.execute(
                "INSERT INTO recordings (id, seq, started_at, started_mono_us, state, has_audio)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (rec_id, seq, started_at, started_mono_us, State.RECORDING, int(has_audio)),
            )

    def update(self, rec_id: str, **values: Any) -> None:
        unknown = set(values) - set(_COLUMNS)
        if unknown:
            raise LibraryError(f"no such recording field: {', '.join(sorted(unknown))}")
        sets = ", ".join(f"{k} = ?" for k in values)
        with self.transaction() as db:
            query = f"UPDATE recordings SET {sets} WHERE id = ?"  # noqa: S608 - names checked
            cur = db.execute(query, (*values.values(), rec_id))
            if cur.rowcount != 1:
                raise NotFound(f"there is no recording called {rec_id!r}")

    def get(self, rec_id: str) -> RecordingRow:
        with self._lock:
            row = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM recordings WHERE id = ?",  # noqa: S608
                (rec_id,),
            ).fetchone()
        if row is None:
            raise NotFound(f"there is no recording called {rec_id!r}")
        return _row(row)

    def all(self, state: State | None = None) -> list[RecordingRow]:
        """Newest first."""
        query = f"SELECT {', '.join(_COLUMNS)} FROM recordings"  # noqa: S608
        args: tuple[str, ...] = ()
        if state is not None:
            query += " WHERE state = ?"
            args = (state,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY seq DESC", args).fetchall()
        return [_row(r) for r in rows]


def _row(values: tuple[Any, ...]) -> RecordingRow:
    d = dict(zip(_COLUMNS, values, strict=True))
    d["state"] = State(d["state"])
    d["has_audio"] = bool(d["has_audio"])
    d["mic_lost"] = bool(d["mic_lost"])
    d["review_done"] = bool(d["review_done"])
    d["held"] = bool(d["held"])
    return RecordingRow(**d)


@contextmanager
def _index_full() -> Iterator[None]:
    """SQLite refused by a full card becomes :class:`CardFull` (generic: a caller that
    knows what it saved says so); a CardFull from inside the transaction passes as is."""
    try:
        yield
    except sqlite3.Error as e:
        if not is_card_full(e):
            raise
        raise CardFull("the change was not saved", generic=True) from e


def check_not_full(path: Path, e: sqlite3.Error) -> None:
    """Raise :class:`CardFull` when ``e``, opening the index at ``path``, is a full card
    (which SQLite may report as a plain "disk I/O error" when it cannot make its ``-shm``
    and ``-wal``): that is not damage, and the index must never be set aside for it."""
    try:
        st = os.statvfs(path.parent)
        no_room = st.f_bavail * st.f_frsize < _ROOM_TO_OPEN
    except OSError:
        no_room = False
    if is_card_full(e) or no_room:
        raise CardFull(
            f"its index {path} cannot be opened ({e})",
            hint="Move files off the card (or erase films that are safe at the office),"
            " then start the kit again.",
        ) from e
