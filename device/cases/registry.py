"""The cases' plaintext side in the kit's index: opaque ids, dates and counters only.

The recorder must file a new film while the kit is locked (the button needs no key), so
what it needs lives here, in the clear but meaningless without the encrypted case file:
each case's opaque id, the day consent was given or withdrawn, closing day, erase-by date
and current cycle number; the kit's current case (an opaque id); and each film's case id,
cycle and whether it is held as Unassigned. Never a case code, never a question.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date

from device.cases import mirror
from device.cases.model import Filing
from device.library import Index, State

TABLES = """
CREATE TABLE IF NOT EXISTS cases (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    consent_on TEXT,
    withdrawn_on TEXT,
    closed_on TEXT,
    erase_by TEXT,
    cycle INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS erase_requests (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    case_id TEXT NOT NULL,
    recordings TEXT NOT NULL,
    cycle INTEGER,
    requested_at TEXT NOT NULL,
    sent_at TEXT
);
"""
CURRENT_KEY = "current_case"


@dataclass(frozen=True)
class CaseRow:
    id: str
    seq: int
    consent_on: str | None
    withdrawn_on: str | None
    closed_on: str | None
    erase_by: str | None
    cycle: int

    @property
    def consented(self) -> bool:
        return self.consent_on is not None and self.withdrawn_on is None


_COLS = "id, seq, consent_on, withdrawn_on, closed_on, erase_by, cycle"


class Registry:
    """The cases' rows in ``kit.sqlite`` (tables made on first use, in place)."""

    def __init__(self, index: Index) -> None:
        self.index = index
        with index.transaction() as db:
            for statement in TABLES.split(";"):
                if statement.strip():
                    db.execute(statement)
        mirror.restore(index, index.path.with_name(mirror.CASES_DIR))  # after a rebuild
        mirror.save(index)  # a film filed just before a power cut: its case is copied now
        self._mirror_later = mirror.MirrorWriter(index)

    def close(self) -> None:
        """Write a copy still pending from ``file_recording`` (the kit's shutdown)."""
        self._mirror_later.close()

    def save_mirror(self) -> None:
        """Copy the registry to ``registry.json`` (after each change: see cases.mirror)."""
        mirror.save(self.index)

    def add(self, case_id: str) -> None:
        with self.index.transaction() as db:
            (seq,) = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM cases").fetchone()
            db.execute("INSERT INTO cases (id, seq) VALUES (?, ?)", (case_id, seq))
        self.save_mirror()

    def get(self, case_id: str) -> CaseRow | None:
        with self.index.transaction() as db:
            row = db.execute(
                f"SELECT {_COLS} FROM cases WHERE id = ?",  # noqa: S608 - fixed columns
                (case_id,),
            ).fetchone()
        return None if row is None else CaseRow(*row)

    def all(self) -> list[CaseRow]:
        """Newest first."""
        with self.index.transaction() as db:
            rows = db.execute(f"SELECT {_COLS} FROM cases ORDER BY seq DESC").fetchall()  # noqa: S608
        return [CaseRow(*r) for r in rows]

    def remove(self, case_id: str) -> None:
        with self.index.transaction() as db:
            db.execute("DELETE FROM cases WHERE id = ?", (case_id,))
            if _current(db) == case_id:
                db.execute("DELETE FROM meta WHERE key = ?", (CURRENT_KEY,))
        self.save_mirror()

    def sync_dates(
        self,
        case_id: str,
        *,
        consent_on: str | None,
        withdrawn_on: str | None,
        closed_on: str | None,
        erase_by: date | None,
    ) -> None:
        """Copy the case's dates from its document; its films' erase-by follow."""
        until = erase_by.isoformat() if erase_by else None
        with self.index.transaction() as db:
            db.execute(
                "UPDATE cases SET consent_on = ?, withdrawn_on = ?, closed_on = ?, erase_by = ?"
                " WHERE id = ?",
                (consent_on, withdrawn_on, closed_on, until, case_id),
            )
            db.execute("UPDATE recordings SET erase_by = ? WHERE case_id = ?", (until, case_id))
        self.save_mirror()

    # --- the current case --------------------------------------------------------------

    def current(self) -> str | None:
        with self.index.transaction() as db:
            return _current(db)

    def set_current(self, case_id: str | None) -> None:
        with self.index.transaction() as db:
            if case_id is None:
                db.execute("DELETE FROM meta WHERE key = ?", (CURRENT_KEY,))
            else:
                db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    (CURRENT_KEY, case_id),
                )
        self.save_mirror()

    # --- films -------------------------------------------------------------------------

    def file_recording(self, rec_id: str, case_id: str | None = None) -> Filing:
        """Called by the recorder as a film starts (the kit may be locked): into the
        current case's cycle (or ``case_id``'s, for ``vigkit record --case``) when it
        has consent, else Unassigned (held). The copy in ``registry.json`` follows on
        its own thread: no fsync before the film's first frame (see cases.mirror)."""
        with self.index.transaction() as db:
            case_id = case_id or _current(db)
            row = db.execute(
                "SELECT cycle FROM cases WHERE id = ? AND consent_on IS NOT NULL"
                " AND withdrawn_on IS NULL AND closed_on IS NULL",
                (case_id,),
            ).fetchone()
            if row is None:
                db.execute("UPDATE recordings SET held = 1 WHERE id = ?", (rec_id,))
                filing = Filing(None, None)
            else:
                cycle = _cycle_for_new_film(db, str(case_id), int(row[0]))
                _join(db, rec_id, str(case_id), cycle)
                filing = Filing(str(case_id), cycle)
        self._mirror_later.soon()
        return filing

    def assign(self, rec_id: str, case_id: str, cycle: int) -> None:
        with self.index.transaction() as db:
            _join(db, rec_id, case_id, cycle)
        self.save_mirror()

    def advance_cycle(self, case_id: str) -> int:
        """The practitioner starts the next cycle: its number."""
        with self.index.transaction() as db:
            db.execute("UPDATE cases SET cycle = cycle + 1 WHERE id = ?", (case_id,))
            (n,) = db.execute("SELECT cycle FROM cases WHERE id = ?", (case_id,)).fetchone()
        self.save_mirror()
        return int(n)

    def films(self, case_id: str, cycle: int | None = None) -> list[str]:
        """The case's films (not erased), oldest first."""
        query = "SELECT id FROM recordings WHERE case_id = ? AND state != ?"
        args: tuple[object, ...] = (case_id, State.DELETED)
        if cycle is not None:
            query, args = query + " AND cycle = ?", (*args, cycle)
        with self.index.transaction() as db:
            return [r[0] for r in db.execute(query + " ORDER BY seq", args).fetchall()]

    def unassigned(self) -> list[str]:
        """Films held as Unassigned, newest first."""
        with self.index.transaction() as db:
            rows = db.execute(
                "SELECT id FROM recordings WHERE held = 1 AND state != ? ORDER BY seq DESC",
                (State.DELETED,),
            ).fetchall()
        return [r[0] for r in rows]


def _current(db: sqlite3.Connection) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (CURRENT_KEY,)).fetchone()
    return None if row is None else str(row[0])


def _cycle_for_new_film(db: sqlite3.Connection, case_id: str, cycle: int) -> int:
    """The current cycle, or the next once a film of it has had its shared review."""
    reviewed = db.execute(
        "SELECT 1 FROM recordings WHERE case_id = ? AND cycle = ? AND review_done = 1"
        " AND state != ? LIMIT 1",
        (case_id, cycle, State.DELETED),
    ).fetchone()
    if reviewed is None:
        return cycle
    db.execute("UPDATE cases SET cycle = ? WHERE id = ?", (cycle + 1, case_id))
    return cycle + 1


def _join(db: sqlite3.Connection, rec_id: str, case_id: str, cycle: int) -> None:
    (until,) = db.execute("SELECT erase_by FROM cases WHERE id = ?", (case_id,)).fetchone()
    db.execute(
        "UPDATE recordings SET case_id = ?, cycle = ?, held = 0, erase_by = ? WHERE id = ?",
        (case_id, cycle, until, rec_id),
    )
