"""A supervisor's comments on the office page: what a comment can be about (the whole
film, or one mark, clip or still from the kit's notes), checking what a form sent, and a
stored comment as the page shows it. Stored by ``device.office.comments``."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from device.errors import NotesError, VigKitError
from device.office import comments
from device.office.archive import OFFICE_SUFFIX
from device.office.recordings import ArchiveRecording
from web.common.display import clock_text
from web.office.access import office


def comments_or_problem(rec: ArchiveRecording) -> tuple[list[dict[str, Any]], str]:
    try:
        return comments.load(rec.folder / f"{rec.id}{OFFICE_SUFFIX}", office().identities), ""
    except VigKitError as e:
        return [], f"{e.message[:1].upper()}{e.message[1:]}. {e.hint}"


def about_choices(doc: dict[str, Any] | None) -> list[tuple[str, str]]:
    """What a comment can be about: the whole film, or one mark, clip or still."""
    choices = [("", "The whole film")]
    if doc is None:
        return choices
    for mark in doc["marks"]:
        words = f"Mark at {clock_text(mark['t'])}"
        principles = ", ".join(mark.get("principles") or ())
        choices.append((f"mark:{mark['id']}", words + (f" ({principles})" if principles else "")))
    for clip in doc["clips"]:
        choices.append((f"clip:{clip['id']}", f"Clip “{clip.get('name') or 'untitled'}”"))
    for still in doc["stills"]:
        choices.append((f"still:{still['id']}", f"Still at {clock_text(still['t'])}"))
    return choices


def about_item(value: str, doc: dict[str, Any] | None) -> dict[str, str] | None:
    if not value:
        return None
    kind, _, item_id = value.partition(":")
    if (
        doc is None
        or kind not in comments.ABOUT_KINDS
        or not any(item["id"] == item_id for item in doc[comments.ABOUT_KINDS[kind]])
    ):
        raise NotesError(
            "that mark, clip or still is not in this recording's notes",
            hint="Reload the page and choose again.",
        )
    return {"kind": kind, "id": item_id}


def film_time(value: str, duration_s: float) -> float | None:
    if not value:
        return None
    try:
        t = float(value)
    except ValueError:
        t = math.nan
    if not math.isfinite(t) or t < 0:
        raise NotesError("the time in the film must be a number of seconds from the start")
    return min(t, duration_s) if duration_s > 0 else t


def shown(comment: dict[str, Any], doc: dict[str, Any] | None) -> dict[str, Any]:
    """A stored comment as the page shows it."""
    about = comment.get("about")
    label = ""
    if isinstance(about, dict) and doc is not None:
        for value, words in about_choices(doc):
            if value == f"{about.get('kind')}:{about.get('id')}":
                label = words
        label = label or "An item no longer in the notes"
    t = comment.get("t")
    return {
        "by": str(comment.get("by") or ""),
        "at": local_time(comment.get("at")),
        "about": label,
        "t": t if isinstance(t, int | float) else None,
        "t_text": clock_text(t) if isinstance(t, int | float) else "",
        "text": str(comment.get("text") or ""),
    }


def local_time(stamp: Any) -> str:
    """A comment's time (stored in UTC) in this computer's time zone, as the list shows."""
    try:
        return datetime.fromisoformat(str(stamp)).astimezone().strftime("%-d %b %Y, %H:%M")
    except ValueError:
        return ""
