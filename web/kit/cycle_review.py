"""A cycle's shared review: the chosen clips and stills of every film of one cycle, plus
clips picked from the case's earlier cycles ("look how this has grown").

The same parent's screen as a film's review (``review.html``): the cycle's helping
question, one moment at a time, no links, no file names. The reflections go to the case's
cycle; "review done" to the cycle's newest film, which is what starts the next cycle
when the case films again (``web.kit.review_save``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request, url_for

from device.errors import CaseError
from web.kit.notes_api import load_notes
from web.kit.review import clip_item, playlist, render_review
from web.kit.review_mode import cycle_scope
from web.kit.review_scope import ReviewScope

bp = Blueprint("cycle_review", __name__)
MAX_EARLIER = 40


def _earlier_clips(scope: ReviewScope, picked: list[str]) -> list[dict[str, Any]]:
    """The clips picked from earlier cycles of this case, in the order of the page."""
    items: list[dict[str, Any]] = []
    for value in picked[:MAX_EARLIER]:
        rec_id, _, clip_id = value.partition("/")
        if rec_id not in scope.films or rec_id == scope.newest:
            raise CaseError("a clip picked for this review is not from an earlier cycle of it")
        doc = load_notes(rec_id).to_json()
        clip = next((c for c in doc["clips"] if c["id"] == clip_id), None)
        if clip is not None:
            items.append(clip_item(rec_id, clip))
    return items


@bp.get("/case/<case_id>/cycles/<int:n>/review")
def page(case_id: str, n: int) -> str:
    picked = request.args.getlist("also")
    scope = cycle_scope(case_id, n, picked)
    if len(picked) != len([v for v in picked if v.partition("/")[0] in scope.films]):
        raise CaseError("a clip picked for this review is not from an earlier cycle of it")
    films = sorted(scope.films - {v.partition("/")[0] for v in picked}) or [scope.newest]
    items: list[dict[str, Any]] = []
    for rec_id in films:
        items.extend(playlist(load_notes(rec_id).to_json(), rec_id))
    items.extend(_earlier_clips(scope, picked))
    newest = load_notes(scope.newest).to_json()
    save = url_for("review_save.cycle", case_id=scope.case_id, n=n)
    return render_review(scope, items, save, newest["review"]["done"])
