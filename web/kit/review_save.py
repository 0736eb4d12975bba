"""What the shared review page sends: the parent's reflections, and "get this clip ready".

Reflections (one per moment, and a closing one) go to the case record, with the cycle the
review is of (``device.cases.reflections``), so the case view and the office show them
with that cycle; "done" goes to the newest film's notes, which is what starts the next
cycle when the case films again. A film from before cases (in no case) keeps them in its
own notes' reflections instead.

A clip plays in the review only from an export made from its present in, out and
principles (``device.library.exports.is_current``): the page asks :func:`prepare` for any
clip that is not, and shows "Preparing the clip…" while the kit cuts it again.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, url_for
from werkzeug.wrappers import Response

from device.cases import check_film_consented
from device.errors import CaseError
from device.library import exports
from device.library.notes import set_field
from web.kit.cases import _body, _ids
from web.kit.notes_api import _item_or_404, load_notes
from web.kit.review_mode import cycle_scope, film_scope
from web.kit.review_scope import ReviewScope
from web.kit.services import current_kit

bp = Blueprint("review_save", __name__)


@bp.post("/recordings/<rec_id>/review/reflections")
def film(rec_id: str) -> Response:
    return _save(film_scope(rec_id), _body())


@bp.post("/case/<case_id>/cycles/<int:n>/review/reflections")
def cycle(case_id: str, n: int) -> Response:
    body = _body()
    moments = body.get("moments", [])
    listed = moments if isinstance(moments, list) else []
    ats = [str(m.get("at", "")) for m in listed if isinstance(m, dict)]
    return _save(cycle_scope(case_id, n, ats), body)


def _save(scope: ReviewScope, body: dict[str, Any]) -> Response:
    """``{"moments": [{"at", "prompt", "text"}], "closing": text or null, "done": bool}``."""
    moments = body.get("moments", [])
    closing = body.get("closing")
    done = body.get("done", False)
    if not isinstance(done, bool):
        raise CaseError("done must be yes or no (true or false)")
    for moment in moments if isinstance(moments, list) else []:
        at = str(moment.get("at", "")) if isinstance(moment, dict) else ""
        if at.partition("/")[0] not in scope.films:
            raise CaseError("a reflection names a moment that is not in this review")
    page = current_kit()
    if scope.case_id is not None and scope.cycle is not None:
        op = {"op": "reflect", "cycle": scope.cycle, "moments": moments, "closing": closing}
        page.cases.apply(scope.case_id, [op], _ids(), page.kit.recipients)
    else:
        _into_film_notes(scope.newest, moments, closing)
    if done:
        ops = [set_field("review.done", True)]
        page.notes.apply(scope.newest, ops, _ids(), page.kit.recipients)
    return jsonify(saved=True, done=done)


def _into_film_notes(rec_id: str, moments: Any, closing: Any) -> None:
    """A film in no case: its notes' reflections, each moment's words as a paragraph."""
    if not isinstance(moments, list) or not (closing is None or isinstance(closing, str)):
        raise CaseError("the reflections must be text")
    lines = [str(m.get("text", "")).strip() for m in moments if isinstance(m, dict)]
    parts = [line for line in lines if line]
    if closing and closing.strip():
        parts.append(closing.strip())
    if parts:
        page = current_kit()
        ops = [set_field("review.reflections", "\n\n".join(parts))]
        page.notes.apply(rec_id, ops, _ids(), page.kit.recipients)


@bp.post("/recordings/<rec_id>/clips/<clip_id>/prepare")
def prepare(rec_id: str, clip_id: str) -> Response:
    """Export the clip again when it changed since its export (or was never exported);
    answers the address to play it from."""
    notes = load_notes(rec_id)
    check_film_consented(current_kit().cases, notes.rec_id)
    clip = _item_or_404(notes, "clips", clip_id)
    if not exports.is_current(clip):
        page = current_kit()
        exports.export_clip(
            page.kit.library,
            page.notes,
            notes.rec_id,
            clip_id,
            _ids(),
            page.kit.recipients,
            # a re-encode never competes with a recording (web.kit.export_queue): while
            # the kit films, the review's clip is cut by stream copy instead
            exact=bool(clip.get("exact")) and not page.exports.busy(),
        )
    return jsonify(src=url_for("media.clip_mp4", rec_id=notes.rec_id, clip_id=clip_id))
