"""The page's side of sync to the office: "Sync now" on the Settings page, what the last
sync did, and each recording's sync badge on the list.

The sync itself is :class:`device.sync.Syncer`, run in this process on one background
thread at a time, at the lowest scheduling priority (its rclone inherits it), so a
recording started meanwhile keeps the CPU. It never starts while a film is being
recorded. What it needs (the remote, the rclone config, retention) is handed in by the
composition root with :func:`configure`; without it the page says sync is not set up.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, redirect, url_for
from werkzeug.wrappers import Response

from device.errors import ConfigError, VigKitError
from device.kit.assembly import Kit
from device.recording.recorder import RecorderState
from device.sync import Progress, Rclone, Retention, Syncer, SyncState, read_status
from web.common.security import wants_json
from web.common.serving import lower_this_thread

log = logging.getLogger(__name__)
bp = Blueprint("sync", __name__)

SYNC_NICE = 19  # below the page's threads, far below the recorder's
CLOSE_WAIT_S = 10.0
BADGES = {
    SyncState.SYNCED: "Synced",
    SyncState.NOT_SYNCED: "Waiting to sync",
    SyncState.SENDING: "Syncing now",
    SyncState.FAILED: "Waiting to sync: the last try did not finish",
}
PHASES = {
    "looking": "Looking for what to send",
    "sending": "Sending",
    "verifying": "Checking the office copy",
    "manifests": "Sending the lists of files",
    "tidying": "Tidying the kit",
    "done": "Finishing",
}
RECORDING = frozenset({RecorderState.RECORDING, RecorderState.FINALIZING})


@dataclass(frozen=True)
class SyncSettings:
    """What ``vigkit run`` tells the page about sync, from the kit's settings."""

    remote: str = ""  # empty: sync is not set up
    rclone_config: Path | None = None
    retention_days: float = 7.0
    stall_s: float = 120.0


class SyncRunner:
    """One in-process sync at a time; remembers how the page's last attempt ended."""

    def __init__(self, kit: Kit, settings: SyncSettings) -> None:
        self.settings = settings
        self.kit = kit
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self.progress: Progress | None = None
        self.error = ""  # this page's last attempt, when the engine could not record it
        self.hint = ""

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> bool:
        """Start a sync on a background thread; False (and ``error`` says why) if not."""
        with self._guard:
            if self.running:
                return True  # a second tap joins the sync under way
            self.error = self.hint = ""
            if not self.settings.remote:
                return self._refuse("sync is not set up on this kit", "")
            if self.kit.recorder.status.state in RECORDING:
                return self._refuse(
                    "the kit is recording", "Sync when the film is finished and saved."
                )
            self.progress = Progress("looking", 0, 0)
            self._thread = threading.Thread(target=self._run, name="vigkit-sync", daemon=True)
            self._thread.start()
            return True

    def _refuse(self, message: str, hint: str) -> bool:
        self.error, self.hint = message, hint
        return False

    def _run(self) -> None:
        lower_this_thread(SYNC_NICE)
        s = self.settings
        try:
            if s.rclone_config is not None and not s.rclone_config.is_file():
                raise ConfigError(
                    f"the rclone config file {s.rclone_config} does not exist",
                    hint="Check rclone_config in the kit's settings; see docs/office.md.",
                )
            library = self.kit.library
            Syncer(
                library=library,
                remote=s.remote,
                rclone=Rclone(config=s.rclone_config, stall_s=s.stall_s),
                retention=Retention(library=library, retention_days=s.retention_days),
                lock_wait_s=0.0,
            ).run(progress=self._tell)
        except VigKitError as e:  # SyncBusy included: the timer's sync is running
            self.error, self.hint = e.message, e.hint or ""
        except Exception:
            log.exception("the sync from the page failed")
            self.error = "the sync stopped unexpectedly"
            self.hint = "Nothing was lost. Try again; if it keeps happening, restart the kit."
        finally:
            self.progress = None

    def _tell(self, progress: Progress) -> None:
        self.progress = progress

    def close(self) -> None:
        """Wait a little for a sync under way (the kit's index closes next). A sync cut
        short is safe: the next one carries on and nothing unverified was removed."""
        thread = self._thread
        if thread is not None:
            thread.join(CLOSE_WAIT_S)


def configure(app: Flask, settings: SyncSettings) -> None:
    """Give the page the kit's sync settings (call after create_app)."""
    old = runner(app)
    old.close()
    app.extensions["vigkit.sync"] = SyncRunner(app.extensions["vigkit.kit"], settings)


def runner(app: Flask | None = None) -> SyncRunner:
    app = app or current_app
    found = app.extensions.get("vigkit.sync")
    if not isinstance(found, SyncRunner):
        found = SyncRunner(app.extensions["vigkit.kit"], SyncSettings())
        app.extensions["vigkit.sync"] = found
    return found


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


def summary() -> dict[str, Any]:
    """The Settings page's sync section, and ``GET /settings/sync``."""
    r = runner()
    kit: Kit = current_app.extensions["vigkit.kit"]
    recording = kit.recorder.status.state in RECORDING
    if not r.settings.remote:
        return {"configured": False, "running": False, "recording": recording}
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
    }


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
