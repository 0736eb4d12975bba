"""``registry.json``: a copy of the cases' plaintext registry, so a rebuilt index gets it back.

What the registry keeps in ``kit.sqlite`` — each case's opaque id and dates, the current
case, the erase requests, and each film's case, cycle and whether it is held as
Unassigned — exists nowhere else in a form the kit can read while locked: the case files
need the key and hold no list of films. So after every change the registry writes the
same facts, plain (opaque ids, dates and numbers: exactly what the index holds, never a
code or a question), to ``registry.json`` beside the index, atomically — and only when
they changed, so a save with nothing new costs no fsync.

Most changes save at once. Filing a new film does not: it happens on the recorder's start
path, before the first frame, where an atomic write's two fsyncs (slow on an SD card)
would delay the picture, so the registry hands it to a :class:`MirrorWriter` thread
instead. Until that thread has written, the index has the film's case and the copy does
not yet; the writer's ``close`` (the kit's shutdown) writes what is pending, and every
start-up saves again (the registry's constructor), so after a power cut the copy catches
up at the next start. Only if that same power cut also ruins the index does the rebuild
meet a film the copy never saw: it stays Unassigned, never sent without a case — as
after a cut between the index's commit and a synchronous write.

When the index was rebuilt from the files (:mod:`device.library.rebuild`: every film
*held* until now), :func:`restore` reads it back once: films get their case and cycle
again, a film the registry never saw stays held (consent first: it is not sent until it
is assigned), cases whose file is on the card but not in the copy get their row back
(their dates follow at the next save of the case), and films an erase request names are
marked erased so the start-up's ``finish_erasures`` removes what a power cut left.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

from device.library import AuditLog, Index, State, atomic_write
from device.library.rebuild import META_REGISTRY
from device.threads import JOIN_S, OnDemandWorker

log = logging.getLogger(__name__)
_SAVING = threading.Lock()

NAME = "registry.json"
CASES_DIR = "cases"  # as device.cases.store names it
FORMAT = "vigkit-registry/1"
CASE_COLUMNS = ("id", "seq", "consent_on", "withdrawn_on", "closed_on", "erase_by", "cycle")
REQUEST_COLUMNS = ("seq", "kind", "case_id", "recordings", "cycle", "requested_at", "sent_at")


def path_of(index: Index) -> Path:
    return index.path.with_name(NAME)


def save(index: Index) -> None:
    """Write the registry's plaintext facts as they are now, unless the copy already holds
    exactly them. One writer at a time in this process (the temp file's name is per
    process), reading the facts inside the lock so the last file written holds the latest
    of them."""
    with _SAVING:
        if index.meta(META_REGISTRY) == "1":
            return  # not read back yet: writing now would lose what the copy holds
        text = _document(index)
        path = path_of(index)
        if _current_text(path) != text:
            atomic_write(path, text)


def _current_text(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:  # missing or unreadable: written again
        return None


class MirrorWriter:
    """Saves ``registry.json`` on its own thread (``vigkit-registry-mirror``), for the
    changes whose caller must not wait for the card: ``soon`` returns at once; changes
    that arrive while a save runs fold into one more save (which reads the facts as they
    are then). A save that fails is logged and tried again at the next ``soon`` or at
    ``close``."""

    def __init__(self, index: Index) -> None:
        self._index = index
        self._pending = threading.Event()
        self._saving = threading.Lock()  # held by a save under way, the thread's or close's
        self._worker = OnDemandWorker(self._save_pending, name="vigkit-registry-mirror")

    def soon(self) -> None:
        self._pending.set()
        self._worker.kick()

    def close(self) -> None:
        """Stop the thread and write what is still pending, on this thread. A save stuck
        on the card is not waited for past ``JOIN_S``: the next start-up saves anyway."""
        self._worker.close()
        if not self._saving.acquire(timeout=JOIN_S):
            log.warning("registry.json is still being written; the next start writes it again")
            return
        try:
            self._save_if_pending()
        finally:
            self._saving.release()

    def _save_pending(self) -> None:
        with self._saving:
            self._save_if_pending()

    def _save_if_pending(self) -> None:
        if not self._pending.is_set():
            return
        self._pending.clear()  # before reading the facts: a change from now on saves again
        try:
            save(self._index)
        except BaseException:
            self._pending.set()
            raise


def _document(index: Index) -> bytes:
    with index.transaction() as db:
        doc = {
            "format": FORMAT,
            "current": _value(db, "SELECT value FROM meta WHERE key = 'current_case'"),
            "cases": _rows(db, "cases", CASE_COLUMNS),
            "erase_requests": _rows(db, "erase_requests", REQUEST_COLUMNS),
            "films": {
                r[0]: [r[1], r[2], r[3]]
                for r in db.execute(
                    "SELECT id, case_id, cycle, held FROM recordings WHERE state != ?",
                    (State.DELETED,),
                )
            },
        }
    return (json.dumps(doc, sort_keys=True) + "\n").encode()


def _value(db: sqlite3.Connection, query: str) -> Any:
    row = db.execute(query).fetchone()
    return None if row is None else row[0]


def _rows(db: sqlite3.Connection, table: str, columns: tuple[str, ...]) -> list[list[Any]]:
    query = f"SELECT {', '.join(columns)} FROM {table} ORDER BY seq"  # noqa: S608 - fixed names
    return [list(r) for r in db.execute(query)]


def restore(index: Index, cases_folder: Path) -> None:
    """After a rebuild: the registry's rows and each film's case, from the copy."""
    if index.meta(META_REGISTRY) != "1":
        return
    try:
        doc = json.loads(path_of(index).read_bytes())
        if doc.get("format") != FORMAT:
            raise ValueError("not a registry copy")
    except (OSError, ValueError, AttributeError) as e:
        log.warning("registry.json could not be read (%s): every film stays Unassigned", e)
        doc = {"cases": [], "erase_requests": [], "films": {}, "current": None}
    with index.transaction() as db:
        counts = _put_back(db, doc, cases_folder)
    index.set_meta(META_REGISTRY, "")
    AuditLog(index).append("cases restored", "", **counts)
    save(index)


def _put_back(db: sqlite3.Connection, doc: dict[str, Any], cases_folder: Path) -> dict[str, int]:
    for row in doc["cases"]:
        db.execute(
            f"INSERT OR IGNORE INTO cases ({', '.join(CASE_COLUMNS)}) VALUES (?,?,?,?,?,?,?)",  # noqa: S608
            row,
        )
    known = {r[0] for r in db.execute("SELECT id FROM cases")}
    (top,) = db.execute("SELECT COALESCE(MAX(seq), 0) FROM cases").fetchone()
    found = sorted(p.stem for p in cases_folder.glob("case-*.age") if p.stem not in known)
    for n, case_id in enumerate(found, start=top + 1):  # a case made after the copy
        db.execute("INSERT INTO cases (id, seq) VALUES (?, ?)", (case_id, n))
    for row in doc["erase_requests"]:
        db.execute(
            f"INSERT OR IGNORE INTO erase_requests ({', '.join(REQUEST_COLUMNS)})"  # noqa: S608
            " VALUES (?,?,?,?,?,?,?)",
            row,
        )
    if doc.get("current") in known | set(found):
        db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('current_case', ?)", (doc["current"],)
        )
    filed = 0
    for rec_id, (case_id, cycle, held) in doc["films"].items():
        cur = db.execute(
            "UPDATE recordings SET case_id = ?, cycle = ?, held = ?,"
            " erase_by = (SELECT erase_by FROM cases WHERE id = ?) WHERE id = ?",
            (case_id, cycle, int(held), case_id, rec_id),
        )
        filed += cur.rowcount
    erased = 0
    for row in doc["erase_requests"]:
        for rec_id in json.loads(row[3]):
            erased += db.execute(
                "UPDATE recordings SET state = ?, held = 0 WHERE id = ?", (State.DELETED, rec_id)
            ).rowcount
    return {"cases": len(doc["cases"]) + len(found), "films_filed": filed, "erased": erased}
