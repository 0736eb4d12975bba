"""The notes document's schema: its shape, upgrades, and how each operation is checked.

Pure functions over plain JSON values; :mod:`device.library.notes` adds storage and
locking. Every refusal is a :class:`NotesError` whose sentence names the field.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from device.errors import NotesError

VERSION = 2
# a pseudonymous case code: 2-16 letters, digits and single hyphens, with at least one
# digit (a name has none), e.g. F-0231, AB12, 2026-017
CASE_CODE_PATTERN = r"^(?=.*\d)[A-Z0-9]+(?:-[A-Z0-9]+)*$"
_CASE_CODE = re.compile(CASE_CODE_PATTERN)
MAX_CLIP_S = 120.0
_TEXT_LIMITS = {
    "case.question": 500,
    "case.notes": 20_000,
    "review.reflections": 20_000,
    "name": 80,
    "caption": 300,
}
_BOOL_FIELDS = {
    "consent.practitioner",
    "consent.supervisor",
    "consent.training",
    "consent.stops_on_request",
    "review.done",
}
_DATE_FIELDS = {"consent.given_on", "consent.case_closed_on", "consent.erase_by"}
_PREFIX = {"marks": "m", "clips": "c", "stills": "s"}
# what a person may set on each kind of item; "file"/"exact"/… are set by the kit only
_ITEM_FIELDS = {
    "marks": {"t", "principle"},
    "clips": {"name", "principle", "in", "out", "order"},
    "stills": {"t", "caption"},
}
_DEFAULTS: dict[str, dict[str, Any]] = {
    "marks": {"t": None, "principle": "", "source": "phone"},
    "clips": {"name": "", "principle": "", "in": None, "out": None, "order": 0},
    "stills": {"t": None, "caption": ""},
}
_SYSTEM_FIELDS = {"file", "exact", "exported_in", "exported_out", "source"}


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
        for kind in ("marks", "clips", "stills"):
            doc[kind] = list(raw.get(kind) or [])
        return doc
    doc.update(raw)
    return doc


def merge_button_marks(doc: dict[str, Any], markers_s: list[float]) -> None:
    have = {m["id"] for m in doc["marks"]} | set(doc["dismissed"])
    for n, t in enumerate(markers_s, start=1):
        if f"b{n}" not in have:
            mark = {"id": f"b{n}", "t": round(t, 3), "principle": "", "source": "button"}
            doc["marks"].append(mark)


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


def check_principles(names: Any) -> list[str]:
    if not isinstance(names, list) or not 1 <= len(names) <= 12:
        raise NotesError("the list of principles must have between 1 and 12 entries")
    clean = [_text("principle", n, 60).strip() for n in names]
    if any(not n for n in clean) or len(set(clean)) != len(clean):
        raise NotesError("each principle needs a name, and no two may be the same")
    return clean


def find_item(doc: Mapping[str, Any], kind: str, item_id: Any) -> dict[str, Any]:
    items: list[dict[str, Any]] = doc[_kind(kind)]
    for item in items:
        if item["id"] == item_id:
            return item  # the stored item itself, to edit in place
    raise NotesError(f"there is no {kind[:-1]} {item_id!r} in these notes (was it deleted?)")


def apply_op(doc: dict[str, Any], op: Any, principles: list[str], *, system: bool) -> None:
    """Apply one operation to ``doc`` in place, or refuse it with a plain sentence."""
    if not isinstance(op, Mapping):
        raise NotesError("a change to the notes must be an object with an 'op'")
    kind = op.get("op")
    if kind == "set":
        _set(doc, str(op.get("field")), op.get("value"))
    elif kind == "add":
        _add(doc, _kind(op.get("list")), op.get("item"), principles, system)
    elif kind == "update":
        kind = _kind(op.get("list"))
        _update(find_item(doc, kind, op.get("id")), kind, op.get("fields"), principles, system)
    elif kind == "delete":
        item = find_item(doc, _kind(op.get("list")), op.get("id"))
        doc[_kind(op.get("list"))].remove(item)
        if item.get("source") == "button":
            doc["dismissed"].append(item["id"])
    else:
        raise NotesError(f"unknown change {kind!r}: use set, add, update or delete")


def _kind(kind: Any) -> str:
    if kind not in _PREFIX:
        raise NotesError(f"unknown list {kind!r}: use marks, clips or stills")
    return str(kind)


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
    code = _text("case code", value, 40).strip().upper()
    if not code and allow_empty:
        return code
    if not (2 <= len(code) <= 16 and _CASE_CODE.match(code)):
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
    return _text(field, value, _TEXT_LIMITS.get(field, 20_000))


def _text(what: str, value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise NotesError(f"{what} must be text")
    if len(value) > limit:
        raise NotesError(f"{what} is too long ({len(value)} characters; at most {limit})")
    return value


def _add(doc: dict[str, Any], kind: str, fields: Any, principles: list[str], system: bool) -> None:
    item_id = f"{_PREFIX[kind]}{doc['next_id']}"
    doc["next_id"] += 1
    item: dict[str, Any] = {"id": item_id}
    item.update(_DEFAULTS[kind])
    if kind == "clips":
        item["order"] = 1 + max((c["order"] for c in doc["clips"]), default=0)
    _update(item, kind, fields, principles, system)
    for key in ("t",) if kind != "clips" else ("in", "out"):
        if item[key] is None:
            raise NotesError(f"a new {kind[:-1]} needs a time ({key})")
    doc[kind].append(item)


def _update(
    item: dict[str, Any], kind: str, fields: Any, principles: list[str], system: bool
) -> None:
    if not isinstance(fields, Mapping):
        raise NotesError("the fields to change must be an object")
    allowed = _ITEM_FIELDS[kind] | (_SYSTEM_FIELDS if system else set())
    unknown = set(fields) - allowed
    if unknown:
        raise NotesError(f"a {kind[:-1]} has no field {', '.join(sorted(unknown))} to change")
    for name, value in fields.items():
        if name in ("t", "in", "out", "exported_in", "exported_out"):
            item[name] = _time(name, value)
        elif name == "principle":
            text = _text("principle", value, 60)
            if text and text not in principles and text != item.get("principle"):
                raise NotesError(f"{text!r} is not one of this kit's principles")
            item[name] = text
        elif name == "order":
            if isinstance(value, bool) or not isinstance(value, int):
                raise NotesError("a clip's order must be a whole number")
            item[name] = value
        elif name == "exact":
            item[name] = bool(value)
        else:
            item[name] = _text(name, value, _TEXT_LIMITS.get(name, 200))
    if kind == "clips" and item["in"] is not None and item["out"] is not None:
        if item["out"] <= item["in"]:
            raise NotesError("a clip's out point must be after its in point")
        if item["out"] - item["in"] > MAX_CLIP_S:
            raise NotesError(f"a clip may be at most {MAX_CLIP_S:.0f} seconds long")


def _time(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise NotesError(f"{name} must be a time in seconds")
    if value < 0:
        raise NotesError(f"{name} cannot be before the start of the film")
    return round(float(value), 3)
