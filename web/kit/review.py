"""The shared review: the helping question, then the chosen clips and stills one at a time,
each followed by a prompt and a place for the parent's words, then a closing reflection.

The page belongs to the parent (UI.md): a black screen, one moment at a time in the
order the practitioner set (clips by their order, then stills by time), and large
Previous / Play again / Next. It names no file, shows no clock and links nowhere but
"Back to the case", which asks for the kit's passphrase (``web.kit.review_mode``). Clips
play from their exported files only, and only from an export of their present in and out
points: the page has any other clip cut again first (``web.kit.review_save.prepare``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, render_template, url_for

from device.cases import CycleReview, check_film_consented
from device.library import exports
from device.library.prompts import load_prompts
from web.kit.cases import _ids
from web.kit.notes_api import load_notes
from web.kit.review_mode import current_scope, film_scope
from web.kit.review_scope import ReviewScope
from web.kit.services import current_kit

bp = Blueprint("review", __name__)


def clip_item(rec_id: str, clip: dict[str, Any]) -> dict[str, Any]:
    """One clip of the review: where it plays from, or (changed since its export) where
    the page asks for it to be cut again first."""
    current = exports.is_current(clip)
    return {
        "kind": "clip",
        "at": f"{rec_id}/{clip['id']}",
        "src": url_for("media.clip_mp4", rec_id=rec_id, clip_id=clip["id"]) if current else "",
        "prepare": url_for("review_save.prepare", rec_id=rec_id, clip_id=clip["id"]),
        "caption": "",
    }


def playlist(doc: dict[str, Any], rec_id: str) -> list[dict[str, Any]]:
    """The moments in review order, as the page needs them."""
    clips = sorted(doc["clips"], key=lambda c: (c["order"], c["id"]))
    stills = sorted(doc["stills"], key=lambda s: s["t"])
    items = [clip_item(rec_id, clip) for clip in clips]
    for still in stills:
        if still.get("file"):
            src = url_for("media.still_jpg", rec_id=rec_id, still_id=still["id"])
            at = f"{rec_id}/{still['id']}"
            items.append({"kind": "still", "at": at, "src": src, "caption": still["caption"]})
    return items


def render_review(
    scope: ReviewScope, items: list[dict[str, Any]], save_url: str, done: bool
) -> str:
    """The review page for ``scope``: the cycle's question and what was said before."""
    question, said = _cycle_words(scope)
    prompts: Sequence[str] = load_prompts(current_kit().kit.library.data, _ids())
    for k, item in enumerate(items):
        item["prompt"] = prompts[k % len(prompts)]
        item["reflection"] = said.about(item["at"])
    held = current_scope() is not None
    return render_template(
        "review.html",
        items=items,
        question=question,
        closing=said.closing,
        save_url=save_url,
        done=done,
        back=None if held else scope.back,  # held: "Back to the case" asks for the passphrase
    )


def _cycle_words(scope: ReviewScope) -> tuple[str, CycleReview]:
    if scope.case_id is None or scope.cycle is None:
        return "", CycleReview()
    case = current_kit().cases.load(scope.case_id, _ids())
    cycle = next((c for c in case.cycles if c.n == scope.cycle), case.current_cycle)
    return cycle.question, cycle.review


@bp.get("/recordings/<rec_id>/review")
def page(rec_id: str) -> str:
    notes = load_notes(rec_id)
    check_film_consented(current_kit().cases, notes.rec_id)  # never Unassigned, never unconsented
    doc = notes.to_json()
    return render_review(
        film_scope(notes.rec_id),
        playlist(doc, notes.rec_id),
        url_for("review_save.film", rec_id=notes.rec_id),
        doc["review"]["done"],
    )
