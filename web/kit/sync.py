"""The page's side of sync to the office: "Sync now" on the Settings page, what the last
sync did, and each recording's sync badge on the list.

The sync itself is :class:`device.sync.Syncer`, run in this process on one background
thread at a time, at the lowest scheduling priority (its rclone inherits it), so a
recording started meanwhile keeps the CPU. It never starts while a film is being
recorded. What it needs (the remote, the rclone config, retention) is given to
``create_app``; with no remote the page says sync is not set up.

Retention's holds are shown here too (issue #15, finding 9): a clock it does not
believe ("nothing is erased: ..."), with "Confirm the date" when only a jump is the
reason, and each film past its erase-by date that was never verified at the office,
"waiting for your confirmation", with "Erase now". Both are POSTs with the CSRF token.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, jsonify, redirect, url_for
from werkzeug.wrappers import Response

from device.errors import VigKitError, card_full_as
from device.library import RecordingRow
from device.library.damaged import film_damage
from device.sync import Progress, SyncState, read_status
from web.common.errors import Refused
from web.common.security import wants_json
from web.kit.services import current_kit
from web.kit.sync_runner import RECORDING, SyncRunner

log = logging.getLogger(__name__)
bp = Blueprint("sync", __name__)

BADGES = {
    SyncState.SYNCED: "Synced",
    SyncState.NOT_SYNCED: "Waiting to sync",
    SyncState.SENDING: "Syncing now",
    SyncState.FAILED: "Waiting to sync: the last try did not finish",
    SyncState.DAMAGED: "Not sent: damaged on the card",
}
NOT_YET_REPAIRED = (
    "This film was damaged on the card after recording, so it was not sent to the office."
    " The kit keeps every readable second of it in a repaired copy while the kit is unlocked;"
    " the next sync sends that copy."
)
PHASES = {
    "looking": "Looking for what to send",
    "sending": "Sending",
    "verifying": "Checking the office copy",
    "manifests": "Sending the lists of files",
    "tidying": "Tidying the kit",
    "done": "Finishing",
}


def runner() -> SyncRunner:
    return current_kit().sync


def badges() -> dict[str, str]:
    """Each recording's sync badge for the list; none when sync is not set up."""
    if not runner().settings.remote:
        return {}
    try:
        status = read_status(runner().kit.library)
    except (VigKitError, OSError) as e:  # the list must still show
        log.warning("sync state unreadable: %s", e)
        return {}
    return {r.id: BADGES[r.state] for r in status.recordings}


def damage_words(row: RecordingRow) -> str | None:
    """What the page says of a film damaged on the card after recording, if it was."""
    if row.sync_state == SyncState.DAMAGED:
        return NOT_YET_REPAIRED
    damage = film_damage(runner().kit.library.index, row.id)
    if damage is None:
        return None
    where = (
        "is safe at the office"
        if row.sync_state == SyncState.SYNCED
        else "is kept and goes to the office with the next sync"
    )
    return f"{damage.sentence()} The rest of it {where}; the damaged file stays on the kit."


def summary() -> dict[str, Any]:
    """The Settings page's sync section, and ``GET /settings/sync``."""
    r = runner()
    kit = r.kit
    recording = kit.recorder.status.state in RECORDING
    if not r.settings.remote:
        return {"configured": False, "running": False, "recording": recording, **holds()}
    status = read_status(kit.library)
    running = r.running or status.running
    error, hint = r.error, r.hint
    if not error and not running and status.last_error:
        error, hint = status.last_error, ""  # the timer's sync, or one before a restart
    waiting = sum(1 for rec in status.recordings if rec.state != SyncState.SYNCED)
    return {
        "configured": True,
        "running": running,
        "recording": recording,
        "words": _words(r.progress) if running else _waiting_words(waiting),
        "last_ok": _when(status.last_ok_at),
        "error": _sentence(error) if error and not running else "",
        "hint": hint if error and not running else "",
        "damaged": [rec.id for rec in status.recordings if rec.state == SyncState.DAMAGED],
        **holds(),
    }


def holds() -> dict[str, Any]:
    """What retention will not do on its own: the clock's doubt, films to confirm."""
    retention = runner().retention()
    try:
        trust = retention.clock_trust()
        waiting = retention.waiting()
    except (VigKitError, OSError) as e:  # the Settings page must still show
        log.warning("retention's holds unreadable: %s", e)
        return {"clock_held": "", "clock_jumped": False, "waiting": []}
    return {
        "clock_held": "" if trust.ok else _sentence(f"nothing is erased: {trust.reason}"),
        "clock_jumped": trust.jumped,
        "waiting": [{"id": row.id, "why": _sentence(why)} for row, why in waiting],
    }


@bp.post("/settings/sync/erase/<rec_id>")
def erase_now(rec_id: str) -> Response | tuple[Response, int]:
    """ "Erase now" for a film past its erase-by date that waits for confirmation."""
    erased = runner().retention().erase_confirmed(rec_id, lock_wait_s=5.0)
    if erased is None:
        raise Refused(
            f"recording {rec_id} is not waiting to be erased",
            hint="Reload the Settings page to see what is waiting for your confirmation.",
        )
    if wants_json():
        return jsonify({"erased": erased.recording, "files": erased.files}), 200
    return redirect(url_for("settings.page") + "#sync-heading", code=303)


@bp.post("/settings/sync/confirm-clock")
def confirm_clock() -> Response | tuple[Response, int]:
    """The practitioner says the kit's date, far ahead of the last known one, is right."""
    retention = runner().retention()
    now = datetime.now(UTC)
    with card_full_as("the kit's date was not confirmed"):
        retention.trust.confirm(now)
        runner().kit.library.audit.append(
            "clock confirmed", at=now.isoformat(timespec="seconds"), source="page"
        )
    if wants_json():
        return jsonify(holds()), 200
    return redirect(url_for("settings.page") + "#sync-heading", code=303)


@bp.post("/settings/sync")
def start() -> Response | tuple[Response, int]:
    started = runner().start()
    if wants_json():
        return jsonify(summary()), (202 if started else 409)
    return redirect(url_for("settings.page") + "#sync-heading", code=303)


@bp.get("/settings/sync")
def state() -> Response:
    return jsonify(summary())


def _words(progress: Progress | None) -> str:
    if progress is None:
        return "A sync is running."
    words = PHASES.get(progress.phase, "Syncing")
    if progress.phase == "sending" and progress.total:
        return f"{words}: {100 * progress.done // progress.total}%"
    if progress.phase == "verifying" and progress.total:
        return f"{words}: {progress.done} of {progress.total} files"
    return f"{words}…"


def _waiting_words(waiting: int) -> str:
    if waiting == 0:
        return "Every recording is safe at the office."
    one = "recording is" if waiting == 1 else "recordings are"
    return f"{waiting} {one} waiting to be sent to the office."


def _when(stamp: str | None) -> str:
    if not stamp:
        return ""
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%-d %b %Y, %H:%M")
    except ValueError:
        return stamp


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:].rstrip(".") + "."
