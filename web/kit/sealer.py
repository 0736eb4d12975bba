"""Repairing interrupted films in the background, never inside a request.

Unlocking hands the kit's identity to the keyring and kicks this worker; the unlock
answers at once (in about the scrypt time) and the page stays usable while one thread
seals the films a power cut left unfinished (``device.recording.recovery``: one at a
time under a file lock in the data folder, which ``vigkit recover`` takes too). The
worker waits while the kit records: a seal that sees a recording start stops, leaves
the original as it was, and starts again when the recorder is idle. The page shows
"Repairing the film of 10:32 after a power cut…" meanwhile (``repairing``), and what
could not be repaired (``problems``), in words.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from device.errors import SealPaused
from device.kit.assembly import Kit
from device.library import State
from device.recording.recorder import RecorderState, Status
from device.recording.recovery import FAILED, SEALED, seal_interrupted
from device.threads import BackgroundThread
from web.common.keyring import Keyring
from web.common.serving import lower_this_thread

log = logging.getLogger(__name__)

BACKGROUND_NICE = 10  # below the page and the recorder, above thumbnails
_IDLE = (RecorderState.IDLE, RecorderState.FAULT)


class Sealer:
    def __init__(
        self, kit: Kit, keyring: Keyring, reserve_bytes: int, on_sealed: Callable[[], None]
    ) -> None:
        self._kit = kit
        self._keyring = keyring
        self._reserve = reserve_bytes
        self._on_sealed = on_sealed
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._thread: BackgroundThread | None = None
        self.repairing: str | None = None  # the sentence the page shows while it works
        self.problems: dict[str, str] = {}
        kit.recorder.subscribe(self._on_status)

    def kick(self) -> None:
        """Look for interrupted films now (after an unlock, after a recording)."""
        if self._closed.is_set():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = BackgroundThread(self._run, name="vigkit-seal", join_s=60)
                self._thread.start()
        self._wake.set()

    def close(self) -> None:
        self._closed.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join_within()

    def _on_status(self, status: Status) -> None:
        if status.state in _IDLE and self._keyring.is_unlocked:
            self.kick()

    def _busy(self) -> bool:
        return self._closed.is_set() or self._kit.recorder.status.state not in _IDLE

    def _run(self) -> None:
        lower_this_thread(BACKGROUND_NICE)
        while not self._closed.is_set():
            self._wake.wait()
            self._wake.clear()
            try:
                self._round()
            except SealPaused:  # a recording started: the next idle status kicks again
                log.info("sealing waits for the recording to end")
            except Exception:  # e.g. the library closing under it; try again on the next kick
                log.exception("the sealing thread stopped a round")
                self.repairing = None

    def _round(self) -> None:
        identity = self._keyring.held_identity()
        library = self._kit.library
        pending = library.index.all(State.INTERRUPTED)
        if identity is None or not pending:
            self.repairing = None
            return
        films = ", ".join(_film_of(r.started_at) for r in pending)
        later = f"{films[:1].upper()}{films[1:]} will be repaired once the recording ends."
        if self._busy():
            self.repairing = later
            return
        self.repairing = f"Repairing {films} after a power cut…"
        try:
            reports = seal_interrupted(
                library,
                [identity],
                self._kit.recipients,
                reserve_bytes=self._reserve,
                busy=self._busy,
            )
        except SealPaused:
            self.repairing = later
            raise
        self.repairing = None
        problems = dict(self.problems)  # replaced whole: the page reads it from other threads
        for r in reports:
            if r.outcome == FAILED:
                problems[r.recording_id] = r.problem
            else:
                problems.pop(r.recording_id, None)
        self.problems = problems
        if any(r.outcome == SEALED for r in reports):
            self._on_sealed()


def _film_of(started_at: str) -> str:
    """'the film of 10:32', in the kit's local time."""
    try:
        return f"the film of {datetime.fromisoformat(started_at).astimezone():%H:%M}"
    except ValueError:
        return "an interrupted film"
