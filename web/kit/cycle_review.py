"""A cycle's shared review: the chosen clips and stills of every film of one cycle, plus
clips picked from the case's earlier cycles ("look how this has grown").

The same parent's screen as a film's review (``review.html``): one moment at a time, no
links, no file names. The reflections typed afterwards, and "review done", go to the
cycle's newest film, which is what starts the next cycle when the case films again.
Only clips already exported play (as in a film's review).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for

from device import cases
from device.errors import CaseError
from web.common.display import PROMPTS
from web.kit.cases import _ids
from web.kit.notes_api import load_notes
from web.kit.review import playlist
from web.kit.services import current_kit

bp = Blueprint("cycle_review", __name__)
MAX_EARLIER = 40


def _earlier_clips(case_id: str, n: int, picked: list[str]) -> list[dict[str, str]]:
    """The clips picked from earlier cycles of this case, in the order of the page."""
    store = current_kit().cases
    allowed = {rec for c in range(1, n) for rec in store.registry.films(case_id, c)}
    items: list[dict[str, str]] = []
    for value in picked[:MAX_EARLIER]:
        rec_id, _, clip_id = value.partition("/")
        if rec_id not in allowed:
            raise CaseError("a clip picked for this review is not from an earlier cycle of it")
        doc = load_notes(rec_id).to_json()
        clip = next((c for c in doc["clips"] if c["id"] == clip_id and c.get("file")), None)
        if clip is not None:
            src = url_for("media.clip_mp4", rec_id=rec_id, clip_id=clip_id)
            items.append({"kind": "clip", "src": src, "caption": ""})
    return items


@bp.get("/case/<case_id>/cycles/<int:n>/review")
def page(case_id: str, n: int) -> str:
    store = current_kit().cases
    case = store.load(cases.check_case_id(case_id), _ids())
    films = store.registry.films(case.id, n)
    if not films:
        raise CaseError(
            f"cycle {n} of case {case.code} has no film yet", hint="Film this cycle first."
        )
    cases.check_film_consented(store, films[-1])  # the case's consent covers every film
    items: list[dict[str, Any]] = []
    for rec_id in films:
        items.extend(playlist(load_notes(rec_id).to_json(), rec_id))
    items.extend(_earlier_clips(case.id, n, request.args.getlist("also")))
    for k, item in enumerate(items):
        item["prompt"] = PROMPTS[k % len(PROMPTS)]
    newest = load_notes(films[-1]).to_json()
    return render_template(
        "review.html",
        rec_id=films[-1],
        items=items,
        reflections=newest["review"]["reflections"],
        done=newest["review"]["done"],
    )
