"""A case's journey as the phone's case view shows it: cycle after cycle, each with its
helping question, its films, their clips and stills, and the parent's reflections.

Built in memory from the encrypted case and the films' encrypted notes, for one page
view; nothing here is written anywhere. A film whose notes cannot be read still shows,
with a sentence, so one damaged sidecar never hides the rest of a family's journey.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import url_for

from device import age
from device.cases import Case, CaseStore
from device.errors import VigKitError
from device.library import FINISHED, RecordingRow
from web.common.display import clock_text
from web.kit.services import current_kit


def thumb_url(row: RecordingRow, t_s: float = 0.0) -> str | None:
    """The timeline picture nearest ``t_s`` of a film, or None while it has none yet."""
    if row.state not in FINISHED:
        return None
    strip = current_kit().thumbnailer.strip(row.id)
    if not strip:
        return None
    n = min(range(len(strip)), key=lambda i: abs(strip[i].t_s - t_s))
    return url_for("pages.thumb", rec_id=row.id, n=n)


def _clip(row: RecordingRow, clip: dict[str, Any]) -> dict[str, Any]:
    start, end = clip.get("in"), clip.get("out")
    length = (end - start) if start is not None and end is not None else None
    return {
        "id": clip["id"],
        "rec_id": row.id,
        "name": clip.get("name") or "",
        "principles": list(clip.get("principles") or ()),
        "length": clock_text(length) if length is not None else "",
        "thumb": thumb_url(row, float(start or 0.0)),
        "exported": bool(clip.get("file")),
    }


def _still(row: RecordingRow, still: dict[str, Any]) -> dict[str, Any] | None:
    if not still.get("file"):
        return None
    return {
        "src": url_for("media.still_jpg", rec_id=row.id, still_id=still["id"]),
        "caption": still.get("caption") or "",
    }


def film_entry(row: RecordingRow, identities: Sequence[age.Identity]) -> dict[str, Any]:
    """One film of the journey with what was made from it."""
    entry: dict[str, Any] = {
        "id": row.id,
        "length": clock_text(row.duration_s),
        "thumb": thumb_url(row),
        "playable": row.state in FINISHED,
        "review_done": row.review_done,
        "readable": True,
        "clips": [],
        "stills": [],
        "reflections": "",
    }
    try:
        doc = current_kit().notes.load(row.id, identities).to_json()
    except VigKitError:
        entry["readable"] = False
        return entry
    clips = sorted(doc["clips"], key=lambda c: (c["order"], c["id"]))
    entry["clips"] = [_clip(row, c) for c in clips]
    stills = (_still(row, s) for s in sorted(doc["stills"], key=lambda s: s["t"]))
    entry["stills"] = [s for s in stills if s is not None]
    entry["reflections"] = doc["review"]["reflections"].strip()
    return entry


def journey(store: CaseStore, case: Case, identities: Sequence[age.Identity]) -> list[Any]:
    """Every cycle of ``case``, oldest first, with its films (oldest first)."""
    index = store.library.index
    cycles = []
    for cycle in case.cycles:
        rows = [index.get(rec_id) for rec_id in store.registry.films(case.id, cycle.n)]
        films = [film_entry(row, identities) for row in rows]
        cycles.append(
            {
                "n": cycle.n,
                "started_on": cycle.started_on,
                "question": cycle.question,
                "questions": cycle.questions,  # oldest first: how it was refined
                "films": films,
                "reviewed": any(f["review_done"] for f in films),
                "current": cycle.n == case.current_cycle.n,
                "review": cycle.review,  # the parent's words in the shared review
            }
        )
    return cycles
