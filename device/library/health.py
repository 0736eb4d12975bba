"""Is the kit's index usable? And, when it is not, setting it aside (never deleting it).

``kit.sqlite`` is only a list of what is on the card: every film, its sidecars and the
case files are files of their own. So an index that cannot be opened, fails SQLite's
``PRAGMA quick_check``, or is missing (or empty) while films are on the card is moved
aside as ``kit.sqlite.damaged-<time>`` (with its ``-wal`` and ``-shm``, which belong to it:
a new database must never pick up the old one's write-ahead log) and the index is rebuilt
from the files (:mod:`device.library.rebuild`). A busy or locked database is not damage.
"""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from device.errors import LibraryError
from device.library.atomic import fsync_dir
from device.library.index import check_not_full
from device.library.layout import RECORDING_ID, DataDir

SIDE_FILES = ("-wal", "-shm", "-journal")  # SQLite's own files beside the database
BUSY_WAIT_S = 10.0  # a sync writing at this moment is waited for, not taken for damage


def kept_on_card(data: DataDir) -> bool:
    """Anything an index would list: a film (finished or interrupted) in ``recordings/``,
    a case file, or the cases' registry copy."""
    films = (
        RECORDING_ID.fullmatch(p.name.split(".", 1)[0]) is not None
        for p in data.recordings.glob("*.mp4.age")
    )
    return (
        any(films)
        or any((data.root / "cases").glob("case-*.age"))
        or (data.root / "registry.json").exists()
    )


def why_rebuild(data: DataDir) -> str | None:
    """Why the index must be rebuilt from the files, in words; None when it is sound."""
    path = data.database
    if not path.exists():
        return "it was missing" if kept_on_card(data) else None
    try:
        db = sqlite3.connect(path, timeout=BUSY_WAIT_S)
    except sqlite3.DatabaseError as e:
        return _damage(path, e)
    try:
        found = db.execute("PRAGMA quick_check").fetchall()
        if found != [("ok",)]:
            return f"it failed its check ({found[0][0]})"
        tables = db.execute("SELECT name FROM sqlite_master WHERE name = 'recordings'").fetchall()
    except sqlite3.DatabaseError as e:
        return _damage(path, e)
    finally:
        db.close()
    if not tables and kept_on_card(data):
        return "it was empty"
    return None


def _damage(path: Path, e: sqlite3.DatabaseError) -> str:
    if isinstance(e, sqlite3.OperationalError) and "malformed" not in str(e):
        # locked, busy, no permission, a full card: the file may be whole, so it is not touched
        check_not_full(path, e)
        raise LibraryError(
            f"the kit's index cannot be opened: {e}",
            hint="Check that no other program holds it, then start the kit again.",
        ) from e
    return f"it could not be read ({e})"


def set_aside(data: DataDir, now: datetime | None = None) -> str | None:
    """Move ``kit.sqlite`` and its side files to ``kit.sqlite.damaged-<time>``; the new
    name, or None when there was nothing to move."""
    at = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    base = data.database
    target = base.with_name(f"{base.name}.damaged-{at}")
    n = 2
    while target.exists():
        target = base.with_name(f"{base.name}.damaged-{at}-{n}")
        n += 1
    moved = None
    for suffix in ("", *SIDE_FILES):
        source = Path(f"{base}{suffix}")
        if source.exists():
            source.rename(f"{target}{suffix}")
            moved = target.name
    fsync_dir(data.root)
    return moved


def audit_rows_in(path: Path) -> int | None:
    """How many audit rows a set-aside index still holds, if it can be read at all."""
    if not path.exists():
        return None
    with contextlib.suppress(sqlite3.Error):
        db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        try:
            (count,) = db.execute("SELECT COUNT(*) FROM audit").fetchone()
            return int(count)
        finally:
            db.close()
    return None
