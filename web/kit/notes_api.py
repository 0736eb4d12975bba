"""The notes of a recording as JSON: read them, change them, export clips and stills.

The page never sends a whole document: it sends a list of small operations (set a field;
add, update or delete one mark, clip or still by id), which ``NotesStore.apply`` applies
under a lock to the *latest* stored notes. Two phones editing at once therefore both
keep their edits; each answer carries the new document and its revision, so a page
shows what the other phone did too. Consent is the case's, never a film's: a change to a
film's ``consent`` fields is refused. Refusals are sentences (400), an id that is not
there (any more) is a 404 saying so, and nothing is a 500.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import Unauthorized
from werkzeug.wrappers import Response

from device import age
from device.cases import check_film_consented
from device.errors import NotesError
from device.library import Notes, check_recording_id, exports
from device.library.notes import load_principles
from web.common.errors import Missing
from web.common.json_body import json_object
from web.kit.export_queue import QUEUED
from web.kit.services import current_identity, current_kit

bp = Blueprint("notes", __name__)

MAX_OPS = 100  # one page action is a handful of operations; this stops a runaway script
# free notes may be 20,000 characters, up to 3 bytes each in UTF-8; waitress keeps
# request bodies under 64 KiB in memory (web.common.serving), so this stays below that
MAX_NOTES_BYTES = 62 * 1024
_LISTS = {"marks": "mark", "clips": "clip", "stills": "still"}


def identity() -> age.X25519Identity:
    found = current_identity()
    if found is None:  # the unlock guard runs first; this only satisfies the type checker
        raise Unauthorized
    return found


def load_notes(rec_id: str) -> Notes:
    """The notes of a recording the kit knows (404 otherwise), decrypted in memory."""
    rec_id = check_recording_id(rec_id)
    current_kit().kit.library.index.get(rec_id)
    return current_kit().notes.load(rec_id, [identity()])


def answer(notes: Notes) -> Response:
    return jsonify(notes=notes.to_json(), revision=notes.revision)


@bp.get("/recordings/<rec_id>/notes")
def read(rec_id: str) -> Response:
    notes = load_notes(rec_id)
    principles = load_principles(current_kit().kit.library.data, [identity()])
    return jsonify(notes=notes.to_json(), revision=notes.revision, principles=principles)


@bp.post("/recordings/<rec_id>/notes")
def change(rec_id: str) -> Response:
    """Apply ``{"ops": [...]}`` to the latest notes, all or nothing."""
    request.max_content_length = MAX_NOTES_BYTES
    body = _json_object()
    ops = body.get("ops")
    if not isinstance(ops, list) or not ops or len(ops) > MAX_OPS:
        raise NotesError(f"send the changes as a list of 1 to {MAX_OPS} operations")
    _no_film_consent(ops)
    rec_id = check_recording_id(rec_id)
    current_kit().kit.library.index.get(rec_id)
    try:
        notes = current_kit().notes.apply(rec_id, ops, [identity()], current_kit().kit.recipients)
    except NotesError:
        _missing_item(rec_id, ops)  # an id that is not there is a 404, not a bad request
        raise
    return answer(notes)


@bp.post("/recordings/<rec_id>/clips/<clip_id>/export")
def export_clip(rec_id: str, clip_id: str) -> Response | tuple[Response, int]:
    """Cut the clip into its own encrypted MP4 (``{"exact": true}`` re-encodes it; while
    the kit records, that is queued: 202, with the sentence the page shows)."""
    body = _json_object()
    exact = body.get("exact", False)
    if not isinstance(exact, bool):
        raise NotesError("exact must be yes or no (true or false)")
    notes = load_notes(rec_id)
    _item_or_404(notes, "clips", clip_id)
    page = current_kit()
    check_film_consented(page.cases, notes.rec_id)
    if exact and page.exports.busy():  # a re-encode never competes with a recording
        page.exports.add(notes.rec_id, clip_id)
        queued = jsonify(notes=notes.to_json(), revision=notes.revision, message=QUEUED)
        return queued, 202
    done = exports.export_clip(
        page.kit.library,
        page.notes,
        notes.rec_id,
        clip_id,
        [identity()],
        page.kit.recipients,
        exact=exact,
    )
    return answer(done)


@bp.post("/recordings/<rec_id>/stills")
def add_still(rec_id: str) -> Response:
    """Freeze the frame on screen at ``{"t": seconds}`` as an encrypted JPEG still."""
    body = _json_object()
    t = body.get("t")
    caption = body.get("caption", "")
    if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t < 0:
        raise NotesError("t must be the time of the frame, in seconds from the start")
    if not isinstance(caption, str):
        raise NotesError("the caption must be text")
    notes = load_notes(rec_id)
    page = current_kit()
    check_film_consented(page.cases, notes.rec_id)
    done = exports.export_still(
        page.kit.library,
        page.notes,
        notes.rec_id,
        float(t),
        [identity()],
        page.kit.recipients,
        caption=caption,
    )
    return answer(done)


def _no_film_consent(ops: Sequence[Any]) -> None:
    """Consent belongs to the case, agreed before filming: no film records its own (the
    notes keep the field only for films from before cases, which the upgrade reads)."""
    for op in ops:
        if isinstance(op, Mapping) and str(op.get("field", "")).startswith("consent."):
            raise NotesError(
                "consent is recorded for the whole case, not for one film",
                hint="Open the film's case and record the consent there, with the parent.",
            )


def _json_object() -> dict[str, Any]:
    return json_object(NotesError)


def _item_or_404(notes: Notes, kind: str, item_id: str) -> dict[str, Any]:
    for item in notes.doc[kind]:
        if item["id"] == item_id:
            found: dict[str, Any] = item
            return found
    raise Missing(
        f"that {_LISTS[kind]} is no longer in this recording's notes",
        hint="It may have been removed on another phone. Reload the page to see the latest.",
    )


def _missing_item(rec_id: str, ops: Sequence[Any]) -> None:
    """Raise Missing when an update or delete names an item the notes do not have."""
    doc = current_kit().notes.load(rec_id, [identity()]).doc
    for op in ops:
        if not isinstance(op, Mapping) or op.get("op") not in ("update", "delete"):
            continue
        kind = op.get("list")
        if kind in _LISTS and not any(item["id"] == op.get("id") for item in doc[kind]):
            raise Missing(
                f"that {_LISTS[kind]} is no longer in this recording's notes",
                hint="It may have been removed on another phone. Reload the page to see the"
                " latest.",
            )
