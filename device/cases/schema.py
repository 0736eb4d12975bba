"""The case document's shape and how each operation on it is checked.

Pure functions over plain JSON; :mod:`device.cases.store` adds storage and locking. An
operation is a small object (``{"op": "question", "text": …}``); the store applies a
list of them, under a lock, to the latest stored document, so two phones changing
different things both keep their change. Free text that two phones could both rewrite
(the case notes) carries the text it was based on: if someone else changed it since,
the edit is refused with a :class:`CaseConflict` rather than silently lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from device.cases.model import (
    DEFAULT_ERASE_MONTHS,
    Case,
    Consent,
    Cycle,
    CycleReview,
    Question,
    Reflection,
)
from device.cases.reflections import reflect, review_of
from device.errors import CaseConflict, CaseError, NotesError
from device.library.notes_schema import check_case_code

VERSION = 1
MAX_QUESTION = 500
MAX_NOTES = 20_000
MAX_CYCLES = 20
Op = Mapping[str, Any]


def new_doc(case_id: str, code: Any, question: Any, today: date) -> dict[str, Any]:
    on = today.isoformat()
    doc: dict[str, Any] = {
        "version": VERSION,
        "id": case_id,
        "revision": 0,
        "code": code_of(code),
        "opened_on": on,
        "closed_on": None,
        "notes": "",
        "consent": None,
        "cycles": [{"n": 1, "started_on": on, "questions": []}],
    }
    if question:
        _question(doc, {"text": question}, today)
    return doc


def code_of(value: Any) -> str:
    try:
        return check_case_code(value)
    except NotesError as e:
        raise CaseError(e.message, hint=e.hint) from None


def case_from_doc(doc: Mapping[str, Any]) -> Case:
    consent = doc["consent"]
    return Case(
        id=doc["id"],
        code=doc["code"],
        revision=int(doc["revision"]),
        opened_on=doc["opened_on"],
        closed_on=doc["closed_on"],
        consent=None if consent is None else Consent(**consent),
        cycles=tuple(
            Cycle(
                c["n"],
                c["started_on"],
                tuple(Question(**q) for q in c["questions"]),
                _review(c),
            )
            for c in doc["cycles"]
        ),
        notes=doc["notes"],
    )


def _review(cycle: Mapping[str, Any]) -> CycleReview:
    review = review_of(cycle)
    moments = tuple(Reflection(**m) for m in review["moments"])
    return CycleReview(moments, review["closing"], review["on"])


def upgrade(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("version"), int):
        raise CaseError("this case's file has an unknown layout")
    if raw["version"] > VERSION:
        raise CaseError(
            "this case was written by a newer VIG Kit",
            hint="Update this kit's software before editing this case.",
        )
    return raw


def ensure_cycles(doc: dict[str, Any], n: int, today: date) -> None:
    """Add cycles up to ``n`` (the recorder counts cycles in the index while the kit is
    locked); each new one starts with the question of the one before."""
    while doc["cycles"][-1]["n"] < n:
        last = doc["cycles"][-1]
        carried = last["questions"][-1:] if last["questions"] else []
        doc["cycles"].append(
            {"n": last["n"] + 1, "started_on": today.isoformat(), "questions": list(carried)}
        )


def apply_op(doc: dict[str, Any], op: Any, today: date, *, system: bool = False) -> None:
    """Apply one operation to ``doc`` in place, or refuse it with a plain sentence.
    ``withdraw`` is ``system`` only: withdrawing must also erase (device.cases.actions)."""
    if not isinstance(op, Mapping):
        raise CaseError("a change to a case must be an object with an 'op'")
    kind = str(op.get("op"))
    handler = _HANDLERS.get(kind)
    if handler is None or (kind in _SYSTEM_OPS and not system):
        allowed = sorted(set(_HANDLERS) - _SYSTEM_OPS)
        raise CaseError(f"unknown change {op.get('op')!r}: use {', '.join(allowed)}")
    handler(doc, op, today)


def check_question(value: Any) -> str:
    """A helping question as typed, trimmed, or a refusal (empty, not text, too long)."""
    text = _text("the helping question", value, MAX_QUESTION).strip()
    if not text:
        raise CaseError("the helping question is empty", hint="Write it in the parent's own words.")
    return text


def _question(doc: dict[str, Any], op: Op, today: date) -> None:
    text = check_question(op.get("text"))
    n = op.get("cycle", doc["cycles"][-1]["n"])
    cycle = next((c for c in doc["cycles"] if c["n"] == n), None)
    if cycle is None:
        raise CaseError(f"this case has no cycle {n!r}")
    if not cycle["questions"] or cycle["questions"][-1]["text"] != text:
        cycle["questions"].append({"text": text, "on": today.isoformat()})


def _notes(doc: dict[str, Any], op: Op, today: date) -> None:
    text = _text("the case notes", op.get("text"), MAX_NOTES)
    base = op.get("base")
    if base is not None and base != doc["notes"] and text != doc["notes"]:
        raise CaseConflict(
            "someone else changed this case's notes while you were writing yours",
            hint="Copy your text, reload the case, and add it to the notes as they are now.",
        )
    doc["notes"] = text


def _consent(doc: dict[str, Any], op: Op, today: date) -> None:
    if doc["consent"] is not None and doc["consent"]["withdrawn_on"]:
        raise CaseError("consent was withdrawn for this case; it cannot be given again")
    doc["consent"] = check_consent(op.get("consent"), today)


def _close(doc: dict[str, Any], op: Op, today: date) -> None:
    if doc["closed_on"] is None:
        on = _date("the closing date", op.get("on") or today.isoformat())
        if on > today.isoformat():
            raise CaseError("a case cannot be closed on a day still to come")
        doc["closed_on"] = on


def _reopen(doc: dict[str, Any], op: Op, today: date) -> None:
    if doc["consent"] is not None and doc["consent"]["withdrawn_on"]:
        raise CaseError("consent was withdrawn for this case; it cannot be reopened")
    doc["closed_on"] = None


def _new_cycle(doc: dict[str, Any], op: Op, today: date) -> None:
    n = doc["cycles"][-1]["n"] + 1
    if n > MAX_CYCLES:
        raise CaseError(f"a case can have at most {MAX_CYCLES} cycles")
    ensure_cycles(doc, n, today)
    if op.get("question"):
        _question(doc, {"text": op["question"]}, today)


def _withdraw(doc: dict[str, Any], op: Op, today: date) -> None:
    on = _date("the withdrawal date", op.get("on") or today.isoformat())
    if on > today.isoformat():
        raise CaseError("consent cannot be withdrawn on a day still to come")
    consent = doc["consent"]
    if consent is None:
        raise CaseError("no consent was recorded for this case, so there is none to withdraw")
    consent["withdrawn_on"] = on
    doc["closed_on"] = doc["closed_on"] or on


_SYSTEM_OPS = {"withdraw"}
_HANDLERS = {
    "question": _question,
    "notes": _notes,
    "consent": _consent,
    "close": _close,
    "reopen": _reopen,
    "new_cycle": _new_cycle,
    "withdraw": _withdraw,
    "reflect": reflect,
}


def check_consent(raw: Any, today: date) -> dict[str, Any]:
    """A consent record as the form sends it, checked: dates real and not in the future,
    the erase rule either months after closing or a date after consent, each point a
    yes or no (nothing assumed)."""
    if not isinstance(raw, Mapping):
        raise CaseError("the consent must be an object with its points")
    given = _date("the date consent was given", raw.get("given_on"))
    if given > today.isoformat():
        raise CaseError("consent cannot be dated on a day still to come")
    points = {k: _yes_no(k, raw.get(k)) for k in _POINTS}
    if not points["stops_on_request"]:
        raise CaseError(
            "the parent has not been told that filming stops whenever they ask",
            hint="Tell them, then tick that point.",
        )
    months, on = _erase_rule(raw, given)
    return {
        "given_on": given,
        **points,
        "erase_months": months,
        "erase_on": on,
        "withdrawn_on": None,
    }


_POINTS = {
    "practitioner": "the practitioner may watch the films",
    "supervisor": "a VIG supervisor may watch the films",
    "training": "the films may be used in training",
    "stops_on_request": "filming stops whenever the parent asks",
}


def _erase_rule(raw: Mapping[str, Any], given: str) -> tuple[int | None, str | None]:
    if raw.get("erase_on"):
        on = _date("the erase-by date", raw["erase_on"])
        if on < given:
            raise CaseError("the erase-by date is before the date consent was given")
        return None, on
    months = raw.get("erase_months", DEFAULT_ERASE_MONTHS)
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 120:
        raise CaseError("the erase rule must be a number of months from 1 to 120, or a date")
    return months, None


def _yes_no(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise CaseError(f"answer yes or no: {_POINTS[name]}", hint="Nothing is ticked for you.")
    return value


def _date(what: str, value: Any) -> str:
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise CaseError(f"{what} must be a date such as 2026-11-21") from None


def _text(what: str, value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise CaseError(f"{what} must be text")
    if len(value) > limit:
        raise CaseError(f"{what} is too long ({len(value)} characters; at most {limit})")
    return value
