"""The case files ``cases/<opaque id>.age``: create, read, list and edit cases.

Each case is one JSON document encrypted to the kit's recipients (the office key and the
kit key), written atomically. Edits are operations (:mod:`device.cases.schema`) applied
under a per-case lock to the latest stored document, as the notes store does, so two
phones editing the same case keep both edits or get a clear conflict. After each save
the case's dates (consent, withdrawal, closing, erase-by) are copied to the index, where
the recorder and sync can see them without a key; its code and questions never are.
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from device import age
from device.cases import schema
from device.cases.model import Case
from device.cases.registry import Registry
from device.errors import CaseConflict, CaseError, NotFound, card_full_as
from device.library import Library, atomic_write

CASES_DIR = "cases"
CASE_ID_PREFIX = "case-"
Today = Callable[[], date]

_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()
_CREATE_LOCK = threading.Lock()  # one new case at a time: the code must stay unique


def _lock_for(path: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path.resolve(), threading.Lock())


def new_case_id() -> str:
    """Opaque: random, nothing of the code, the family or the day in it."""
    return f"{CASE_ID_PREFIX}{secrets.token_hex(6)}"


def is_case_id(value: object) -> bool:
    """A whole opaque case id and nothing else (the office builds paths from these)."""
    return (
        isinstance(value, str)
        and value.startswith(CASE_ID_PREFIX)
        and len(value) == len(CASE_ID_PREFIX) + 12
        and all(c in "0123456789abcdef" for c in value[len(CASE_ID_PREFIX) :])
    )


def check_case_id(case_id: str) -> str:
    if not is_case_id(case_id):
        raise NotFound(f"there is no case called {case_id!r}")
    return case_id


class CaseStore:
    """Reads and edits cases in one data folder; one per process (locks are shared)."""

    def __init__(self, library: Library, *, today: Today = date.today) -> None:
        self.library = library
        self.registry = Registry(library.index)
        self.folder = library.data.root / CASES_DIR
        self.folder.mkdir(mode=0o700, exist_ok=True)
        self._today = today

    def close(self) -> None:
        """Write what the registry's copy still has pending (before the library closes)."""
        self.registry.close()

    def today(self) -> date:
        return self._today()

    def path(self, case_id: str) -> Path:
        return self.folder / f"{check_case_id(case_id)}.age"

    def create(
        self,
        code: object,
        question: object,
        identities: Sequence[age.Identity],
        recipients: Sequence[age.Recipient],
        ops: Sequence[schema.Op] = (),
    ) -> Case:
        """A new open case in cycle 1, with ``ops`` (its consent) in its first version;
        refused if the code is not a case code or is already used by another case on
        this kit. The file is written before the index row: a full card leaves neither."""
        with _CREATE_LOCK, card_full_as("your words were not saved"):
            doc = schema.new_doc(new_case_id(), code, question, self._today())
            if self.find_by_code(doc["code"], identities) is not None:
                raise CaseConflict(
                    f"there is already a case {doc['code']} on this kit",
                    hint="Open that case, or check the code on the case file.",
                )
            before = copy.deepcopy(doc)
            for op in ops:
                schema.apply_op(doc, op, self._today())
            doc["revision"] = int(doc["revision"]) + bool(ops)  # as if saved, then edited
            path = self.path(doc["id"])
            self._write(path, doc, recipients)
            try:
                self.registry.add(doc["id"])
            except BaseException:
                path.unlink(missing_ok=True)  # a file no row lists would be a stray
                raise
            self.library.audit.append("case opened", "", case=doc["id"])
            if ops:
                self._after_save(before, doc)
        return schema.case_from_doc(doc)

    def load(self, case_id: str, identities: Sequence[age.Identity]) -> Case:
        return schema.case_from_doc(self._read(case_id, identities))

    def all(self, identities: Sequence[age.Identity]) -> list[Case]:
        """Every case on the kit, newest first."""
        return [self.load(row.id, identities) for row in self.registry.all()]

    def find_by_code(self, code: object, identities: Sequence[age.Identity]) -> Case | None:
        wanted = schema.code_of(code)
        return next((c for c in self.all(identities) if c.code == wanted), None)

    def apply(
        self,
        case_id: str,
        ops: Sequence[schema.Op],
        identities: Sequence[age.Identity],
        recipients: Sequence[age.Recipient],
        *,
        system: bool = False,
    ) -> Case:
        """Apply ``ops`` in order to the latest stored case and save it atomically; all
        or nothing (a refused operation saves nothing). ``system``: the kit's own
        operations (withdrawal), which a page may not send."""
        path = self.path(case_id)
        with _lock_for(path), card_full_as("your words were not saved"):
            doc = self._read(case_id, identities)
            before = copy.deepcopy(doc)
            for op in ops:
                schema.apply_op(doc, op, self._today(), system=system)
            doc["revision"] = int(doc["revision"]) + 1
            self._write(path, doc, recipients)
            self._after_save(before, doc)
        return schema.case_from_doc(doc)

    def new_cycle(
        self,
        case_id: str,
        question: str | None,
        identities: Sequence[age.Identity],
        recipients: Sequence[age.Recipient],
    ) -> Case:
        """The practitioner starts the next cycle now (the question carries forward
        unless a new one is given). Refused, counting nothing, for a closed case, past
        the last cycle, or with a question that cannot be kept."""
        if question is not None and question.strip():
            question = schema.check_question(question)  # checked before the count moves
        case = self.load(case_id, identities)
        if not case.is_open:
            raise CaseError(f"case {case.code} is closed", hint="Reopen it first.")
        if case.current_cycle.n >= schema.MAX_CYCLES:
            raise CaseError(f"a case can have at most {schema.MAX_CYCLES} cycles")
        n = self.registry.advance_cycle(case_id)
        op: dict[str, Any] = {"op": "question", "text": question, "cycle": n}
        return self.apply(case_id, [op] if question else [], identities, recipients)

    def forget(self, case_id: str) -> None:
        """Remove the case file and its index row (after its films were erased)."""
        self.path(case_id).unlink(missing_ok=True)
        self.registry.remove(case_id)

    # --- internals -------------------------------------------------------------------

    def _read(self, case_id: str, identities: Sequence[age.Identity]) -> dict[str, Any]:
        path = self.path(case_id)
        row = self.registry.get(case_id)
        try:
            raw: Any = json.loads(age.decrypt_bytes(path.read_bytes(), identities))
        except FileNotFoundError:
            raise NotFound(f"there is no case called {case_id!r}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CaseError(
                "this case's file is damaged", hint="The office copy may still be whole."
            ) from e
        doc = schema.upgrade(raw)
        if row is not None:  # the recorder counts cycles while the kit is locked
            schema.ensure_cycles(doc, row.cycle, self._today())
        return doc

    def _write(self, path: Path, doc: dict[str, Any], recipients: Sequence[age.Recipient]) -> None:
        for stale in path.parent.glob(f".{path.name}.*.tmp"):
            stale.unlink(missing_ok=True)  # a save killed half-way: ciphertext, never used
        payload = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
        atomic_write(path, age.encrypt_bytes(payload, recipients))

    def _after_save(self, before: dict[str, Any], doc: dict[str, Any]) -> None:
        case = schema.case_from_doc(doc)
        consent = doc["consent"] or {}
        self.registry.sync_dates(
            case.id,
            consent_on=consent.get("given_on"),
            withdrawn_on=consent.get("withdrawn_on"),
            closed_on=case.closed_on,
            erase_by=case.erase_by(),
        )
        if before["consent"] != doc["consent"]:
            self.library.audit.append("consent saved", "", case=case.id, valid=case.consented)
        if before["closed_on"] != doc["closed_on"]:
            event = "case closed" if doc["closed_on"] else "case reopened"
            self.library.audit.append(event, "", case=case.id)
