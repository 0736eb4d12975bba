"""The notes sidecar ``<id>.notes.age``: everything a person typed about one recording.

One JSON document, age-encrypted, schema-versioned (``version``; the shapes are in
``docs/notes.md`` and :mod:`device.library.notes_items`): the case (code, cycle, helping
question, free notes), the consent record, marks, clips, stills and the shared review.
Edits arrive as small *operations* (set a field; add, update, delete or restore one item
by id) and :meth:`NotesStore.apply` applies them, under a lock, to the latest stored
document, then writes it atomically (a crash leaves the previous version). Two phones
editing different things therefore never lose either; two edits of the same field keep
the last one. Every save bumps ``revision``, which is returned. Flagging a mark or clip
for supervision asks the store's ``supervision`` rule (the film's case consent).

Markers pressed on the second button (``<id>.markers.age``) appear as marks with
``source: "button"`` and ids ``b1``, ``b2``…; tagging one stores it, deleting one
remembers that it was dismissed. Principles are stored by name, not by number, so a
kit that edits its list later does not change what old marks meant.

Saving consent sets the index's erase-by date (for a film in no case: a film in a case
follows the case's, see device.cases); marking the shared review done sets the
index's review flag (neither holds personal data).
"""

from __future__ import annotations

import contextlib
import copy
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from device import age
from device.errors import NotFound
from device.library import notes_schema as schema
from device.library.atomic import atomic_write
from device.library.audit import AuditLog
from device.library.damaged import DAMAGE, set_aside
from device.library.index import Index, State
from device.library.kit_lists import load_list, save_list
from device.library.layout import DataDir

KIND = "notes"
PRINCIPLES_FILE = "principles.age"  # kit-level, beside kit.sqlite: see load_principles
DEFAULT_PRINCIPLES = (
    "Being attentive",
    "Encouraging initiatives",
    "Receiving initiatives",
    "Developing attuned interactions",
    "Guiding",
    "Deepening discussion",
)
MARK_PREROLL_S = 3.0  # the page marks this much before the tap, so the moment is not missed

Op = Mapping[str, Any]
# Whether the film's case consent lets a supervisor watch (device.cases knows; the
# library sits below it, so the kit's page passes the rule in).
SupervisionRule = Callable[[str, Sequence[age.Identity]], bool]
_MARKS_DAMAGE: tuple[type[Exception], ...] = (*DAMAGE, ValueError)  # e.g. a mark not a number

_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_for(path: Path) -> threading.Lock:
    """One lock per notes file for the whole process (the library's flock keeps every
    other process out of the data folder)."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path.resolve(), threading.Lock())


# --- operations, as the web page sends them (JSON) ----------------------------------


def set_field(field: str, value: Any) -> dict[str, Any]:
    return {"op": "set", "field": field, "value": value}


def add_item(kind: str, item: Mapping[str, Any]) -> dict[str, Any]:
    return {"op": "add", "list": kind, "item": dict(item)}


def update_item(kind: str, item_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    return {"op": "update", "list": kind, "id": item_id, "fields": dict(fields)}


def delete_item(kind: str, item_id: str) -> dict[str, Any]:
    return {"op": "delete", "list": kind, "id": item_id}


def restore_item(kind: str, item_id: str) -> dict[str, Any]:
    """Undo the removal of ``item_id`` (it comes back whole)."""
    return {"op": "restore", "list": kind, "id": item_id}


def never_supervised(rec_id: str, identities: Sequence[age.Identity]) -> bool:
    """The rule when none is given: nothing may be flagged for supervision."""
    return False


@dataclass(frozen=True)
class Notes:
    """One recording's notes as stored (button marks merged in), ready for JSON."""

    rec_id: str
    doc: dict[str, Any]

    @property
    def revision(self) -> int:
        return int(self.doc["revision"])

    @property
    def consent_recorded(self) -> bool:
        return schema.consent_recorded(self.doc)

    @property
    def review_done(self) -> bool:
        return bool(self.doc["review"]["done"])

    def item(self, kind: str, item_id: str) -> dict[str, Any]:
        return copy.deepcopy(schema.find_item(self.doc, kind, item_id))

    def to_json(self) -> dict[str, Any]:
        """The document plus what lists show (``consent_recorded``), marks in time order."""
        out = copy.deepcopy(self.doc)
        out["marks"].sort(key=lambda m: m["t"])
        out["clips"].sort(key=lambda c: (c["order"], c["id"]))
        out["consent_recorded"] = self.consent_recorded
        return out


class NotesStore:
    """Reads and edits notes sidecars; one per process is enough (locks are shared)."""

    def __init__(
        self,
        data: DataDir,
        index: Index,
        audit: AuditLog,
        *,
        supervision: SupervisionRule = never_supervised,
    ) -> None:
        self._data, self._index, self._audit = data, index, audit
        self._supervision = supervision

    def load(self, rec_id: str, identities: Sequence[age.Identity]) -> Notes:
        return Notes(rec_id, self._read(rec_id, identities))

    def apply(
        self,
        rec_id: str,
        ops: Sequence[Op],
        identities: Sequence[age.Identity],
        recipients: Sequence[age.Recipient],
        *,
        system: bool = False,
    ) -> Notes:
        """Apply ``ops`` in order to the latest stored notes and save them atomically.

        All or nothing: if any operation is refused (:class:`NotesError`), nothing is
        saved. ``system`` lets the kit itself set fields a person cannot (export files).
        Flagging for supervision is refused unless the film's case consent allows it.
        """
        if self._index.get(rec_id).state == State.DELETED:  # (NotFound if never known)
            raise NotFound("this film was erased", hint="Its notes went with it.")
        path = self._data.derived(rec_id, KIND)
        allowed = schema.Allowed(
            load_principles(self._data, identities),
            supervision=schema.asks_supervision(ops) and self._supervision(rec_id, identities),
            system=system,
        )
        with _lock_for(path):
            doc = self._read(rec_id, identities)
            before = copy.deepcopy(doc)
            for op in ops:
                schema.apply_op(doc, op, allowed)
            doc["revision"] = int(doc["revision"]) + 1
            self._write(path, doc, recipients)
        self._hooks(rec_id, before, doc)
        return Notes(rec_id, copy.deepcopy(doc))

    # --- internals -------------------------------------------------------------------

    def _read(self, rec_id: str, identities: Sequence[age.Identity]) -> dict[str, Any]:
        path = self._data.derived(rec_id, KIND)
        try:
            raw: Any = json.loads(age.decrypt_bytes(path.read_bytes(), identities))
        except FileNotFoundError:
            raw = None  # a recording from before notes existed: start empty
        except DAMAGE:
            # the film must stay usable: keep the damaged file for the office, start anew
            with contextlib.suppress(FileNotFoundError):  # another thread set it aside
                set_aside(path)
            raw = None
        doc = schema.upgrade(raw)
        schema.merge_button_marks(doc, self._markers(rec_id, identities))
        return doc

    def _markers(self, rec_id: str, identities: Sequence[age.Identity]) -> list[float]:
        try:
            ciphertext = self._data.derived(rec_id, "markers").read_bytes()
        except FileNotFoundError:
            return []
        try:
            marks = json.loads(age.decrypt_bytes(ciphertext, identities))
            return [float(m) for m in marks]
        except _MARKS_DAMAGE:  # kept for the office; the notes stay usable
            with contextlib.suppress(FileNotFoundError):
                set_aside(self._data.derived(rec_id, "markers"))
            return []

    def _write(self, path: Path, doc: dict[str, Any], recipients: Sequence[age.Recipient]) -> None:
        # a save killed half-way leaves its temp file (ciphertext, never committed)
        for stale in path.parent.glob(f".{path.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        payload = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
        atomic_write(path, age.encrypt_bytes(payload, recipients))

    def _hooks(self, rec_id: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        if before["consent"] != after["consent"]:
            if self._index.get(rec_id).case_id is None:  # a film in a case follows its case
                self._index.set_erase_by(rec_id, schema.erase_by(after))
            self._audit.append("consent saved", rec_id, recorded=schema.consent_recorded(after))
        if before["review"]["done"] != after["review"]["done"]:
            self._index.set_review_done(rec_id, bool(after["review"]["done"]))


# --- the kit's principles ------------------------------------------------------------


def load_principles(data: DataDir, identities: Sequence[age.Identity]) -> list[str]:
    """The kit's tag list: the six VIG principles unless the team edited them.

    Kept in one kit-level encrypted file (``principles.age`` in the data folder): words a
    person typed are only ever stored encrypted, and the list is needed only when the kit
    is unlocked. Marks and clips store the principle's name, so each recording's notes
    still say what was meant without this file (which is not synced).
    """
    path = data.root / PRINCIPLES_FILE
    return load_list(path, DEFAULT_PRINCIPLES, schema.check_principles, identities, "principles")


def save_principles(
    data: DataDir, names: Sequence[str], recipients: Sequence[age.Recipient]
) -> list[str]:
    return save_list(data.root / PRINCIPLES_FILE, names, schema.check_principles, recipients)
