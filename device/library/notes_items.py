"""The items of a film's notes: marks, clips and stills, and how each edit of one is checked.

The shapes (schema version 3; ``docs/notes.md`` describes them for every reader):

- a mark: ``id``, ``t`` (seconds: the moment, already a few seconds before the tap),
  ``principles`` (a list of the kit's principle names), ``note`` (one line of what
  happened), ``supervision`` (flagged for supervision), ``source`` (``phone`` or
  ``button``);
- a clip: ``id``, ``in`` and ``out`` (seconds), ``name``, ``principles``, ``supervision``,
  ``mark`` (the id of the mark it was made from, or None), ``order``; the kit adds
  ``file``, ``exact``, ``exported_in`` and ``exported_out`` when it exports it;
- a still: ``id``, ``t``, ``caption``; the kit adds ``file``.

Removing an item keeps it in the document's ``removed`` list (the last
:data:`REMOVED_KEPT`), so "Undo" can bring it back whole, export files and all, from any
phone; removing is not erasing (the film's erase does that).
Pure functions over plain JSON values; every refusal is a :class:`NotesError` sentence.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from device.errors import NotesError

MAX_CLIP_S = 120.0
MAX_PRINCIPLES = 12
PRINCIPLE_LIMIT = 60
NOTE_LIMIT = 200  # one line on a phone: what happened at this moment
REMOVED_KEPT = 20  # removed items that Undo can still bring back
PREFIX = {"marks": "m", "clips": "c", "stills": "s"}
SINGULAR = {"marks": "mark", "clips": "clip", "stills": "still"}
# what a person may set on each kind of item; "file"/"exact"/… are set by the kit only
FIELDS = {
    "marks": {"t", "principles", "note", "supervision"},
    "clips": {"name", "principles", "in", "out", "order", "supervision", "mark"},
    "stills": {"t", "caption"},
}
SYSTEM_FIELDS = {"file", "exact", "exported_in", "exported_out", "export_key", "source"}
DEFAULTS: dict[str, dict[str, Any]] = {
    "marks": {"t": None, "principles": [], "note": "", "supervision": False, "source": "phone"},
    "clips": {
        "name": "",
        "principles": [],
        "in": None,
        "out": None,
        "order": 0,
        "supervision": False,
        "mark": None,
    },
    "stills": {"t": None, "caption": ""},
}
_TEXT_LIMITS = {"name": 80, "caption": 300, "note": NOTE_LIMIT}
_ITEM_ID = re.compile(r"[mb][0-9]{1,9}")
_ONE_LINE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


@dataclass(frozen=True)
class Allowed:
    """What an edit may set beyond the shapes: the kit's principles (by name), whether
    the film's case consent lets a supervisor watch, and (``system``) the kit's own
    fields such as export files."""

    principles: Sequence[str]
    supervision: bool = False
    system: bool = False


def text(what: str, value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise NotesError(f"{what} must be text")
    if len(value) > limit:
        raise NotesError(
            f"{what} is too long: {len(value):,} characters, at most {limit:,}",
            hint=f"Shorten it by {len(value) - limit:,} characters; what you typed stays here.",
        )
    return value


def check_principles(names: Any) -> list[str]:
    """The kit's own list of principles, as the Settings page saves it."""
    if not isinstance(names, list) or not 1 <= len(names) <= MAX_PRINCIPLES:
        raise NotesError(f"the list of principles must have between 1 and {MAX_PRINCIPLES} entries")
    clean = [text("principle", n, PRINCIPLE_LIMIT).strip() for n in names]
    if any(not n for n in clean) or len(set(clean)) != len(clean):
        raise NotesError("each principle needs a name, and no two may be the same")
    return clean


def upgrade_item(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    """An item of an older document in today's shape: a version 2 mark or clip had one
    ``principle`` (text, "" for none); it becomes the list ``principles``."""
    out = copy.deepcopy(DEFAULTS[kind])
    out.update(item)
    if "principle" in out:
        old = out.pop("principle")
        if not out.get("principles"):
            out["principles"] = [old] if isinstance(old, str) and old else []
    return out


def find(doc: Mapping[str, Any], kind: str, item_id: Any) -> dict[str, Any]:
    items: list[dict[str, Any]] = doc[check_kind(kind)]
    for item in items:
        if item["id"] == item_id:
            return item  # the stored item itself, to edit in place
    raise NotesError(f"there is no {SINGULAR[kind]} {item_id!r} in these notes (was it deleted?)")


def check_kind(kind: Any) -> str:
    if kind not in PREFIX:
        raise NotesError(f"unknown list {kind!r}: use marks, clips or stills")
    return str(kind)


def add(doc: dict[str, Any], kind: str, fields: Any, allowed: Allowed) -> None:
    item_id = f"{PREFIX[kind]}{doc['next_id']}"
    doc["next_id"] += 1
    item: dict[str, Any] = {"id": item_id, **copy.deepcopy(DEFAULTS[kind])}
    if kind == "clips":
        item["order"] = 1 + max((c["order"] for c in doc["clips"]), default=0)
    update(item, kind, fields, allowed)
    for key in ("t",) if kind != "clips" else ("in", "out"):
        if item[key] is None:
            raise NotesError(f"a new {SINGULAR[kind]} needs a time ({key})")
    doc[kind].append(item)


def remove(doc: dict[str, Any], kind: str, item_id: Any) -> None:
    """Take the item out of its list; keep it in ``removed`` for Undo."""
    item = find(doc, kind, item_id)
    doc[kind].remove(item)
    if item.get("source") == "button":
        doc["dismissed"].append(item["id"])
    doc["removed"] = [*doc["removed"], {"list": kind, "item": item}][-REMOVED_KEPT:]


def restore(doc: dict[str, Any], kind: str, item_id: Any) -> None:
    """Undo a removal: the item comes back as it was (an export's file included)."""
    for entry in reversed(doc["removed"]):
        if entry["list"] == kind and entry["item"]["id"] == item_id:
            break
    else:
        raise NotesError(
            f"that {SINGULAR[kind]} can no longer be brought back",
            hint="Only the last few things removed can be undone.",
        )
    doc["removed"].remove(entry)
    if not any(item["id"] == item_id for item in doc[kind]):
        doc[kind].append(entry["item"])
    if item_id in doc["dismissed"]:
        doc["dismissed"].remove(item_id)


def update(item: dict[str, Any], kind: str, fields: Any, allowed: Allowed) -> None:
    if not isinstance(fields, Mapping):
        raise NotesError("the fields to change must be an object")
    names = FIELDS[kind] | (SYSTEM_FIELDS if allowed.system else set())
    unknown = set(fields) - names
    if unknown:
        raise NotesError(f"a {SINGULAR[kind]} has no field {', '.join(sorted(unknown))} to change")
    for name, value in fields.items():
        item[name] = _value(item, name, value, allowed)
    if kind == "clips" and item["in"] is not None and item["out"] is not None:
        if item["out"] <= item["in"]:
            raise NotesError(  # the words of the clip editor: Start and End
                "a clip's End must be after its Start",
                hint="Move the End later or the Start earlier, then save the clip again.",
            )
        if item["out"] - item["in"] > MAX_CLIP_S:
            raise NotesError(
                f"a clip may be at most {MAX_CLIP_S:.0f} seconds long",
                hint="Move the End earlier or the Start later, then save the clip again.",
            )


def _value(item: Mapping[str, Any], name: str, value: Any, allowed: Allowed) -> Any:
    if name in ("t", "in", "out", "exported_in", "exported_out"):
        return _time(name, value)
    if name == "principles":
        return _principles(value, allowed.principles, item.get("principles") or [])
    if name == "supervision":
        return _supervision(value, allowed)
    if name == "note":
        return _note(value)
    if name == "mark":
        if value is None or (isinstance(value, str) and _ITEM_ID.fullmatch(value)):
            return value
        raise NotesError("a clip's mark must be the id of the mark it was made from")
    if name == "order":
        if isinstance(value, bool) or not isinstance(value, int):
            raise NotesError("a clip's order must be a whole number")
        return value
    if name == "exact":
        return bool(value)
    return text(name, value, _TEXT_LIMITS.get(name, 200))


def _principles(value: Any, kit: Sequence[str], had: Sequence[str]) -> list[str]:
    """A list of principle names, each one of the kit's (or one the item already had: a
    kit that renamed its principles keeps what old marks meant), none twice."""
    if not isinstance(value, list) or len(value) > MAX_PRINCIPLES:
        raise NotesError(f"principles must be a list of at most {MAX_PRINCIPLES} names")
    names: list[str] = []
    for name in value:
        name = text("principle", name, PRINCIPLE_LIMIT)
        if name not in kit and name not in had:
            raise NotesError(f"{name!r} is not one of this kit's principles")
        if name not in names:
            names.append(name)
    return names


def _supervision(value: Any, allowed: Allowed) -> bool:
    if not isinstance(value, bool):
        raise NotesError("supervision must be yes or no (true or false)")
    if value and not allowed.supervision:
        raise NotesError(
            "the parent's consent for this case does not include a supervisor watching,"
            " so this cannot be flagged for supervision",
            hint="If the parent agrees, record it in the case's consent first.",
        )
    return value


def _note(value: Any) -> str:
    note = text("a mark's note", value, NOTE_LIMIT)
    if _ONE_LINE.search(note):
        raise NotesError("a mark's note is one line", hint="Write it without line breaks or tabs.")
    return note


def _time(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise NotesError(f"{name} must be a time in seconds")
    if value < 0:
        raise NotesError(f"{name} cannot be before the start of the film")
    return round(float(value), 3)
