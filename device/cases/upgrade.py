"""Upgrading a kit whose films carry their case in their own notes (before cases existed).

Each distinct case code found in the films' notes becomes a case (its consent and cycle
numbers kept, its helping question taken from its latest film); each film joins its
case and cycle; films without a code become Unassigned. The films' notes are left as
they are, so nothing is lost. It needs the kit's key (the codes are encrypted), so it
runs when the kit is first unlocked after the update; it is idempotent: films already
sorted are skipped, and a code that already has a case joins it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from device import age
from device.cases.model import DEFAULT_ERASE_MONTHS, Case
from device.cases.store import CaseStore
from device.errors import CaseError, VigKitError
from device.library import NotesStore, RecordingRow, State

SKIPPED = (State.RECORDING, State.ERASED, State.DELETED)


@dataclass
class UpgradeReport:
    cases_made: list[str] = field(default_factory=list)  # opaque ids
    films_filed: int = 0
    unassigned: int = 0
    problems: list[str] = field(default_factory=list)  # sentences, no codes


def needs_upgrade(store: CaseStore) -> bool:
    return any(_unsorted(r) for r in store.library.index.all())


def upgrade_from_notes(
    store: CaseStore,
    notes: NotesStore,
    identities: Sequence[age.Identity],
    recipients: Sequence[age.Recipient],
) -> UpgradeReport:
    report = UpgradeReport()
    by_code: dict[str, list[tuple[RecordingRow, dict[str, Any]]]] = {}
    for row in reversed(store.library.index.all()):  # oldest first
        if not _unsorted(row):
            continue
        doc = notes.load(row.id, identities).doc
        code = str(doc["case"]["code"] or "")
        if code:
            by_code.setdefault(code, []).append((row, doc))
        else:
            store.library.index.update(row.id, held=1)
            report.unassigned += 1
    for code, films in by_code.items():
        try:
            case = _case_for(store, code, films, identities, recipients, report)
        except VigKitError as e:  # keep going: the films stay as they were, unsorted
            report.problems.append(e.message)
            continue
        for row, doc in films:
            store.registry.assign(row.id, case.id, int(doc["case"]["cycle"] or 1))
            report.films_filed += 1
    store.registry.save_mirror()  # films held here were set in the index directly
    store.library.audit.append("cases upgrade", "", films=report.films_filed)
    return report


def _unsorted(row: RecordingRow) -> bool:
    return row.case_id is None and not row.held and row.state not in SKIPPED


def _case_for(
    store: CaseStore,
    code: str,
    films: list[tuple[RecordingRow, dict[str, Any]]],
    identities: Sequence[age.Identity],
    recipients: Sequence[age.Recipient],
    report: UpgradeReport,
) -> Case:
    case = store.find_by_code(code, identities)
    latest = films[-1][1]
    if case is None:
        case = store.create(code, str(latest["case"]["question"] or ""), identities, recipients)
        report.cases_made.append(case.id)
    top = max(int(doc["case"]["cycle"] or 1) for _, doc in films)
    row = store.registry.get(case.id)
    cycle = row.cycle if row is not None else top
    while cycle < top:
        cycle = store.registry.advance_cycle(case.id)
    ops: list[dict[str, Any]] = []
    consent = next((d["consent"] for _, d in reversed(films) if _recorded(d["consent"])), None)
    if consent is not None and case.consent is None:
        ops.append({"op": "consent", "consent": _consent_of(consent)})
        if consent.get("case_closed_on"):
            ops.append({"op": "close", "on": consent["case_closed_on"]})
    try:
        return store.apply(case.id, ops, identities, recipients)
    except CaseError as e:  # e.g. a consent dated later than today: kept without it
        report.problems.append(f"a case's consent could not be carried over: {e.message}")
        return store.apply(case.id, [], identities, recipients)


def _recorded(consent: Mapping[str, Any] | None) -> bool:
    return bool(consent and consent.get("given_on") and consent.get("stops_on_request"))


def _consent_of(old: Mapping[str, Any]) -> dict[str, Any]:
    """Today's per-film consent as a case's: training not asked counts as no."""
    out: dict[str, Any] = {
        "given_on": old["given_on"],
        "practitioner": bool(old.get("practitioner")),
        "supervisor": bool(old.get("supervisor")),
        "training": bool(old.get("training")),
        "stops_on_request": True,
        "erase_months": DEFAULT_ERASE_MONTHS,
    }
    if old.get("erase_by_edited") and old.get("erase_by"):
        out["erase_on"] = old["erase_by"]
    return out
