"""The notes document's schema: its shape, upgrades, and how each operation is checked.

Pure functions over plain JSON values; :mod:`device.library.notes` adds storage and
locking. Every refusal is a :class:`NotesError` whose sentence names the field.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from device.errors import NotesError
from device.library import notes_items as items

VERSION = 3  # 3: marks and clips carry a list of principles, a mark a note (notes_items)
# a pseudonymous case code: 2-16 letters, digits and single hyphens, with at least one
# digit (a name has none), e.g. F-0231, AB12, 2026-017
CASE_CODE_PATTERN = r"^(?=.*\d)[A-Z0-9]+(?:-[A-Z0-9]+)*$"
_CASE_CODE = re.compile(CASE_CODE_PATTERN)
MAX_CLIP_S = items.MAX_CLIP_S
NOTES_TEXT_LIMIT = 20_000  # a film's notes and the parent's reflections, each
_TEXT_LIMITS = {
    "case.question": 500,
    "case.notes": NOTES_TEXT_LIMIT,
    "review.reflections": NOTES_TEXT_LIMIT,
}
# what the film page calls each field, for the sentences (never the field's key)
_LABELS = {
    "case.question": "the helping question",
    "case.notes": "the text of “Notes about this film”",
    "review.reflections": "the text of “The parent's reflections”",
}
_BOOL_FIELDS = {
    "consent.practitioner",
    "consent.supervisor",
    "consent.training",
    "consent.stops_on_request",
    "review.done",
}
_DATE_FIELDS = {"consent.given_on", "consent.case_closed_on", "consent.erase_by"}
_KINDS = tuple(items.PREFIX)
check_principles = items.check_principles
find_item = items.find
Allowed = items.Allowed


def empty() -> dict[str, Any]:
    return {
        "version": VERSION,
        "revision": 0,
        "next_id": 1,
        "case": {"code": "", "cycle": None, "question": "", "notes": ""},
        "consent": None,
        "marks": [],
        "clips": [],
        "stills": [],
        "dismissed": [],
        "removed": [],  # what Undo can bring back (notes_items.remove)
        "review": {"done": False, "reflections": ""},
    }


def empty_consent() -> dict[str, Any]:
    return {
        "practitioner": False,
        "supervisor": False,
        "training": None,  # not asked yet; then yes or no, separately from who may see
        "given_on": None,
        "stops_on_request": False,
        "case_closed_on": None,
        "erase_by": None,
        "erase_by_edited": False,
    }


def upgrade(raw: Any) -> dict[str, Any]:
    """Any stored version (or nothing) as the current shape."""
    if raw is None:
        return empty()
    if not isinstance(raw, dict) or not isinstance(raw.get("version"), int):
        raise NotesError("this recording's notes file has an unknown layout")
    if raw["version"] > VERSION:
        raise NotesError(
            "this recording's notes were written by a newer VIG Kit",
            hint="Update this kit's software before editing these notes.",
        )
    doc = empty()
    if raw["version"] == 1:  # the empty sidecar written when recording starts
        raw = {kind: list(raw.get(kind) or []) for kind in _KINDS}
    doc.update(raw)
    for kind in _KINDS:  # version 2: one "principle" per mark and clip
        doc[kind] = [items.upgrade_item(kind, item) for item in doc[kind]]
    doc["version"] = VERSION
    return doc


def merge_button_marks(doc: dict[str, Any], markers_s: list[float]) -> None:
    have = {m["id"] for m in doc["marks"]} | set(doc["dismissed"])
    for n, t in enumerate(markers_s, start=1):
        if f"b{n}" not in have:
            mark = items.upgrade_item("marks", {"id": f"b{n}", "t": round(t, 3)})
            doc["marks"].append({**mark, "source": "button"})


def consent_recorded(doc: Mapping[str, Any]) -> bool:
    """Consent counts as recorded once the date it was given is kept and the parent has
    been told filming stops on request; until then the recording is flagged."""
    consent = doc.get("consent")
    return bool(consent and consent.get("given_on") and consent.get("stops_on_request"))


def erase_by(doc: Mapping[str, Any]) -> date | None:
    consent = doc.get("consent")
    value = consent.get("erase_by") if consent else None
    return date.fromisoformat(value) if value else None


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def apply_op(doc: dict[str, Any], op: Any, allowed: items.Allowed) -> None:
    """Apply one operation to ``doc`` in place, or refuse it with a plain sentence."""
    if not isinstance(op, Mapping):
        raise NotesError("a change to the notes must be an object with an 'op'")
    kind = op.get("op")
    if kind == "set":
        _set(doc, str(op.get("field")), op.get("value"))
    elif kind == "add":
        items.add(doc, items.check_kind(op.get("list")), op.get("item"), allowed)
    elif kind == "update":
        kind = items.check_kind(op.get("list"))
        items.update(items.find(doc, kind, op.get("id")), kind, op.get("fields"), allowed)
    elif kind == "delete":
        items.remove(doc, items.check_kind(op.get("list")), op.get("id"))
    elif kind == "restore":
        items.restore(doc, items.check_kind(op.get("list")), op.get("id"))
    else:
        raise NotesError(f"unknown change {kind!r}: use set, add, update, delete or restore")


def asks_supervision(ops: Sequence[Any]) -> bool:
    """Whether any operation flags an item for supervision (only then is the case's
    consent looked up)."""
    for op in ops:
        if not isinstance(op, Mapping):
            continue
        fields = op.get("fields", op.get("item"))
        if isinstance(fields, Mapping) and fields.get("supervision") is True:
            return True
    return False


def _set(doc: dict[str, Any], field: str, value: Any) -> None:
    section, _, name = field.partition(".")
    if section == "case" and name in doc["case"]:
        doc["case"][name] = _case_value(name, value)
    elif section == "review" and name in doc["review"]:
        doc["review"][name] = _plain(field, value)
    elif section == "consent" and name in empty_consent() and name != "erase_by_edited":
        consent = doc["consent"] = doc["consent"] or empty_consent()
        consent[name] = _plain(field, value)
        if name == "erase_by":
            consent["erase_by_edited"] = value is not None
        if not consent["erase_by_edited"]:  # default: two months after the case closes
            closed = consent["case_closed_on"]
            consent["erase_by"] = (
                add_months(date.fromisoformat(closed), 2).isoformat() if closed else None
            )
        given, ends = consent["given_on"], consent["erase_by"]
        if given and ends and ends < given:
            raise NotesError("the erase-by date is before the date consent was given")
    else:
        raise NotesError(f"{field!r} is not a field of the notes")


def _case_value(name: str, value: Any) -> Any:
    if name == "code":
        return check_case_code(value, allow_empty=True)
    if name == "cycle":
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise NotesError("the cycle must be a whole number from 1 to 20")
        try:
            cycle = int(value)
        except ValueError:
            raise NotesError("the cycle must be a whole number from 1 to 20") from None
        if not 1 <= cycle <= 20:
            raise NotesError("the cycle must be a whole number from 1 to 20")
        return cycle
    return _plain(f"case.{name}", value)


def check_case_code(value: Any, *, allow_empty: bool = False) -> str:
    """The case code, upper-cased, or a refusal: a pseudonymous code, never a name (a name
    has no digit) and never anything with path characters in it."""
    code = items.text("case code", value, 40).strip().upper()
    if not code and allow_empty:
        return code
    if not (2 <= len(code) <= 16 and _CASE_CODE.fullmatch(code)):
        raise NotesError(
            f"{value!r} does not look like a case code",
            hint="Use the short code from the case file (letters and digits with at least"
            " one digit, such as F-0231), never a name.",
        )
    return code


def _plain(field: str, value: Any) -> Any:
    if field in _BOOL_FIELDS:
        if field == "consent.training" and value is None:
            return None
        if not isinstance(value, bool):
            raise NotesError(f"{field} must be yes or no")
        return value
    if field in _DATE_FIELDS:
        if value is None or value == "":
            return None
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise NotesError(f"{field} must be a date such as 2026-11-21") from None
    return items.text(_LABELS.get(field, field), value, _TEXT_LIMITS.get(field, NOTES_TEXT_LIMIT))
