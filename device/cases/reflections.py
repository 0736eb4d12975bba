"""The parent's words from a cycle's shared review, kept in the case record with the cycle.

A cycle's ``review`` holds one reflection per moment watched (``at``: ``<recording id>/
<clip or still id>``, the prompt that was asked, the words) and a closing reflection. The
review page sends a ``reflect`` operation after each moment and at the end; it is merged
into what is there (a moment answered again replaces its words; empty words take it out),
so a review stopped half-way and opened again goes on where it was. The case record is
encrypted to the kit and the office, so the words reach the office with the case.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from device.errors import CaseError
from device.library.layout import is_recording_id

MAX_MOMENT_TEXT = 2_000
MAX_CLOSING = 20_000
MAX_PROMPT = 200
MAX_MOMENTS = 200
_ITEM = re.compile(r"[cs][0-9]{1,9}")


def empty_review() -> dict[str, Any]:
    return {"moments": [], "closing": "", "on": None}


def review_of(cycle: Mapping[str, Any]) -> dict[str, Any]:
    """The cycle's review as stored, or an empty one (records from before this field)."""
    found = cycle.get("review")
    return dict(found) if isinstance(found, Mapping) else empty_review()


def reflect(doc: dict[str, Any], op: Mapping[str, Any], today: date) -> None:
    """The ``reflect`` operation: ``cycle``, ``moments`` (a list) and/or ``closing``."""
    n = op.get("cycle")
    cycle = next((c for c in doc["cycles"] if c["n"] == n), None)
    if cycle is None:
        raise CaseError(f"this case has no cycle {n!r}")
    review = review_of(cycle)
    moments = {m["at"]: m for m in review["moments"]}
    for raw in _list(op.get("moments", [])):
        moment = _moment(raw)
        if moment["text"].strip():
            moments[moment["at"]] = moment
        else:
            moments.pop(moment["at"], None)
    if len(moments) > MAX_MOMENTS:
        raise CaseError(f"a review can keep at most {MAX_MOMENTS} reflections")
    review["moments"] = list(moments.values())
    if op.get("closing") is not None:
        review["closing"] = _text("the closing reflection", op["closing"], MAX_CLOSING)
    review["on"] = today.isoformat()
    cycle["review"] = review


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise CaseError("the reflections must be sent as a list")
    return value


def _moment(raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("at"), str):
        raise CaseError("each reflection must name the moment it is about")
    rec_id, _, item = raw["at"].partition("/")
    if not is_recording_id(rec_id) or not _ITEM.fullmatch(item):
        raise CaseError(f"{raw['at']!r} is not a moment of a film")
    return {
        "at": raw["at"],
        "prompt": _text("the question asked", raw.get("prompt", ""), MAX_PROMPT),
        "text": _text("a reflection", raw.get("text", ""), MAX_MOMENT_TEXT),
    }


def _text(what: str, value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise CaseError(f"{what} must be text")
    if len(value) > limit:
        raise CaseError(
            f"{what} is too long ({len(value)} characters; at most {limit})",
            hint="Shorten it a little, then save again; nothing you typed is lost.",
        )
    return value
