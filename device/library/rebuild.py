"""Rebuilding the kit's index from the files on the card, without the passphrase.

At start-up, a damaged or missing ``kit.sqlite`` (:mod:`device.library.health`) is set
aside and a new one is filled from what the card holds in the clear:

- one row per film in ``recordings/``: its id (which carries its start time), size, and
  its state from the file names alone — ``<id>.mp4.age`` with its fragment index
  ``<id>.index.age`` is a finished film (*recovered* if ``<id>.interrupted.mp4.age`` is
  beside it); a film without its fragment index, or an original without its sealed
  copy, is *interrupted* and sealed again at the next unlock (sealing is idempotent);
- from sync's outbox (plain: ids, sizes, hashes, audit rows), the kit's id (so sync
  goes on into the same folder at the office), each synced film's duration and the
  SHA-256 the kit recorded as it wrote it (damage since is still caught), and the audit
  chain as far as the office has it; a row then states the loss:
  "the index was rebuilt…; N rows after row K are in the set-aside file";
- every film starts *held* (Unassigned, never sent) until the cases' registry mirror
  gives it back its case (:mod:`device.cases.mirror`, at the same start-up).

What needs the key (durations of films never synced) is filled in at the next unlock
(:func:`fill_in_after_unlock`). The row ``meta['index_rebuilt']`` tells the page.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from device import age
from device.library.audit import AuditLog, AuditRow, verify_chain
from device.library.damaged import DAMAGE
from device.library.health import audit_rows_in
from device.library.index import FINISHED, Index, State
from device.library.layout import RECORDING_ID, DataDir
from device.media import FragmentIndex

log = logging.getLogger(__name__)

META_REBUILT = "index_rebuilt"  # JSON of Rebuilt, for the page
META_FILL_IN = "index_fill_in"  # "1" while durations wait for the key
META_REGISTRY = "registry_restore"  # "1" until the cases' mirror is read back
OUTBOX = "outbox"
# a recording's file, or one set aside as damaged (``<name>.damaged``, ``.damaged-2``…)
_NAME = re.compile(
    rf"(?P<id>{RECORDING_ID.pattern})\.(?P<kind>[a-z0-9.-]+)\.age(?P<damaged>\.damaged(-\d+)?)?"
)


@dataclass(frozen=True)
class Rebuilt:
    at: str
    reason: str  # "it was missing", "it could not be read (…)"
    set_aside: str  # the set-aside file's name, "" if there was none
    films: int
    interrupted: int
    audit_restored: int  # audit rows taken back from the outbox
    audit_aside: int | None  # rows the set-aside file still holds (None: unreadable)

    @classmethod
    def from_json(cls, text: str) -> Rebuilt:
        return cls(**json.loads(text))


def rebuild(index: Index, data: DataDir, reason: str, set_aside: str | None) -> Rebuilt:
    """Fill the new, empty ``index`` from the files; the audit row says what was lost."""
    films = _films(data)
    outbox = data.root / OUTBOX
    synced = _manifests(outbox)
    kit_id, chain = _audit_chain(outbox)
    with index.transaction() as db:
        if kit_id:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('kit_id', ?)", (kit_id,))
        for seq, (rec_id, state) in enumerate(sorted(films.items()), start=1):
            _insert(db, seq, rec_id, state, data, synced.get(rec_id, {}))
        for row in chain:
            db.execute(
                "INSERT INTO audit (seq, at, event, recording, detail, prev, hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (row.seq, row.at, row.event, row.recording, _detail(row), row.prev, row.hash),
            )
    aside = audit_rows_in(data.root / set_aside) if set_aside else None
    done = Rebuilt(
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        reason=reason,
        set_aside=set_aside or "",
        films=len(films),
        interrupted=sum(1 for s in films.values() if s == State.INTERRUPTED),
        audit_restored=len(chain),
        audit_aside=aside,
    )
    AuditLog(index).append("index rebuilt", **asdict(done), after_row=chain[-1].seq if chain else 0)
    for key in (META_FILL_IN, META_REGISTRY):
        index.set_meta(key, "1")
    index.set_meta(META_REBUILT, json.dumps(asdict(done)))
    log.warning("the kit's index was rebuilt from %d film(s) on the card: %s", len(films), reason)
    return done


def _films(data: DataDir) -> dict[str, State]:
    """Each film's id and its state, from the names in ``recordings/``."""
    kinds: dict[str, set[str]] = {}
    for path in data.recordings.iterdir():
        found = _NAME.fullmatch(path.name)
        if found is not None and path.is_file():
            kind = found["kind"] + ("!" if found["damaged"] else "")
            kinds.setdefault(found["id"], set()).add(kind)
    films = {}
    for rec_id, have in kinds.items():
        if "mp4" not in have and "interrupted.mp4" not in have:
            continue  # sidecars without a film: nothing to list (kept, never removed)
        # the fragment index is written once the film is whole (set aside if damaged since)
        sealed = "mp4" in have and ("index" in have or "index!" in have)
        if not sealed:
            films[rec_id] = State.INTERRUPTED
        else:
            films[rec_id] = State.RECOVERED if "interrupted.mp4" in have else State.COMPLETE
    return films


def _insert(
    db: sqlite3.Connection,
    seq: int,
    rec_id: str,
    state: State,
    data: DataDir,
    synced: dict[str, Any],
) -> None:
    film = data.film(rec_id)
    size = film.stat().st_size if film.exists() else 0
    shas = {f.get("name"): f for f in synced.get("files", []) if isinstance(f, dict)}
    known = shas.get(film.name, {})
    sha = str(known.get("sha256", "")) if known.get("size") == size else ""
    duration = _seconds(synced.get("duration_s")) if sha else 0.0
    if sha and synced.get("state") in FINISHED:  # the very film sync saw finished
        state = State(synced["state"])  # (its fragment index may have been set aside)
    try:
        started = datetime.strptime(rec_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:  # digits that are no date (a name copied in by hand)
        started = datetime.fromtimestamp(0, UTC)
    db.execute(
        "INSERT INTO recordings (id, seq, started_at, started_mono_us, state, duration_s,"
        " size, sha256, stop_reason, held) VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, 1)",
        (
            rec_id,
            seq,
            started.isoformat(timespec="seconds"),
            state,
            duration,
            size,
            sha,
            "interrupted" if state == State.INTERRUPTED else "",
        ),
    )


def _seconds(value: Any) -> float:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return 0.0


def _manifests(outbox: Path) -> dict[str, dict[str, Any]]:
    """The manifests sync last wrote, by recording id (unreadable ones are skipped)."""
    found: dict[str, dict[str, Any]] = {}
    for path in outbox.glob("*.manifest.json") if outbox.is_dir() else ():
        with contextlib.suppress(OSError, ValueError):
            doc = json.loads(path.read_bytes())
            if isinstance(doc, dict) and isinstance(doc.get("recording"), str):
                found[doc["recording"]] = doc
    return found


def _audit_chain(outbox: Path) -> tuple[str, list[AuditRow]]:
    """The kit's id and its audit chain as sync last sent them (``outbox/audit.json``);
    a chain that does not verify is not taken back (it stays in the outbox)."""
    try:
        doc = json.loads((outbox / "audit.json").read_bytes())
        rows = [AuditRow.from_json(r) for r in doc["rows"]]
        kit_id = str(doc["kit"])
    except (OSError, ValueError, KeyError, TypeError):
        return _kit_from_manifests(outbox), []
    if verify_chain(rows):
        log.warning("outbox/audit.json does not verify: the audit log starts afresh")
        return kit_id, []
    return kit_id, rows


def _kit_from_manifests(outbox: Path) -> str:
    return next((str(d["kit"]) for d in _manifests(outbox).values() if "kit" in d), "")


def _detail(row: AuditRow) -> str:
    return json.dumps(row.detail, sort_keys=True, separators=(",", ":"))


def fill_in_after_unlock(index: Index, data: DataDir, identities: Sequence[age.Identity]) -> int:
    """After a rebuild, once the kit is unlocked: each finished film's duration and
    whether it has sound, from its encrypted fragment index. The number filled in."""
    if index.meta(META_FILL_IN) != "1":
        return 0
    filled = 0
    for row in index.all():
        if row.state not in FINISHED or row.duration_s:
            continue
        with contextlib.suppress(OSError, *DAMAGE):
            text = age.decrypt_bytes(data.derived(row.id, "index").read_bytes(), identities)
            fragments = FragmentIndex.from_json(text)
            sound = any(t.kind == "audio" for t in fragments.tracks)
            index.update(
                row.id, duration_s=round(fragments.video_duration_s(), 3), has_audio=int(sound)
            )
            filled += 1
    index.set_meta(META_FILL_IN, "")
    return filled


def rebuilt_words(index: Index) -> str | None:
    """The calm sentence the page shows after a rebuild (None if there never was one)."""
    text = index.meta(META_REBUILT)
    if not text:
        return None
    done = Rebuilt.from_json(text)
    on = datetime.fromisoformat(done.at).strftime("%-d %b %Y")
    why = "was missing" if done.reason == "it was missing" else "was damaged"
    words = (
        f"The kit's list of films {why}, so it was rebuilt from the films on the card "
        f"on {on}: no film was lost."
    )
    return f"{words} {_log_words(done)}"


def _log_words(done: Rebuilt) -> str:
    """What became of the kit's log: what the office had is kept; the rest is named."""
    if not done.set_aside:
        return "Entries of the kit's log written since the last sync were lost with it."
    kept = f"the damaged list, kept on the card as {done.set_aside}"
    if done.audit_aside is None:
        return (
            f"Entries of the kit's log since the last sync could not be read; they stay in {kept}."
        )
    later = done.audit_aside - done.audit_restored
    if later > 0:
        return f"The last {later} entries of the kit's log stay in {kept}."
    return f"The kit's log is whole; the damaged list is kept on the card as {done.set_aside}."
