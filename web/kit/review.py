"""The shared review: the chosen clips and stills, one at a time, for a parent to watch.

The page belongs to the parent (UI.md): a black screen, one moment at a time in the
order the practitioner set (clips by their order, then stills by time), each followed by
a reflective prompt, and large Previous / Play again / Next. It names no file, shows no
clock and links nowhere: no way into the raw film or any other recording. Clips play
from their exported files only; a clip not exported yet is left out (the film page
exports before it opens the review). Afterwards the parent's reflections are typed in
and the review marked done, through the same notes operations as the film page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, url_for

from device.cases import check_film_consented
from web.common.display import PROMPTS
from web.kit.notes_api import load_notes
from web.kit.services import current_kit

bp = Blueprint("review", __name__)


def playlist(doc: dict[str, Any], rec_id: str) -> list[dict[str, str]]:
    """The moments in review order, as the page needs them (only exported ones)."""
    clips = sorted(doc["clips"], key=lambda c: (c["order"], c["id"]))
    stills = sorted(doc["stills"], key=lambda s: s["t"])
    items: list[dict[str, str]] = []
    for clip in clips:
        if clip.get("file"):
            src = url_for("media.clip_mp4", rec_id=rec_id, clip_id=clip["id"])
            items.append({"kind": "clip", "src": src, "caption": ""})
    for still in stills:
        if still.get("file"):
            src = url_for("media.still_jpg", rec_id=rec_id, still_id=still["id"])
            items.append({"kind": "still", "src": src, "caption": still.get("caption", "")})
    for n, item in enumerate(items):
        item["prompt"] = PROMPTS[n % len(PROMPTS)]
    return items


@bp.get("/recordings/<rec_id>/review")
def page(rec_id: str) -> str:
    notes = load_notes(rec_id)
    check_film_consented(current_kit().cases, notes.rec_id)  # never Unassigned, never unconsented
    doc = notes.to_json()
    return render_template(
        "review.html",
        rec_id=notes.rec_id,
        items=playlist(doc, notes.rec_id),
        reflections=doc["review"]["reflections"],
        done=doc["review"]["done"],
    )
