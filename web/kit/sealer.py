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
from collections.abc import Callable
from datetime import datetime

from device.age import Identity
from device.errors import SealPaused
from device.kit.assembly import Kit
from device.library import State, fill_in_after_unlock
from device.recording.recorder import RecorderState, Status
from device.recording.recovery import FAILED, SEALED, SealReport, seal_interrupted
from device.recording.repair import damaged_films, repair_damaged
from device.threads import OnDemandWorker
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
        self._worker = OnDemandWorker(
            self._work,
            name="vigkit-seal",
            join_s=60,
            on_start=lambda: lower_this_thread(BACKGROUND_NICE),
        )
        self.repairing: str | None = None  # the sentence the page shows while it works
        self.problems: dict[str, str] = {}
        kit.recorder.subscribe(self._on_status)

    def kick(self) -> None:
        """Look for interrupted films now (after an unlock, after a recording)."""
        self._worker.kick()

    def close(self) -> None:
        self._worker.close()

    def _on_status(self, status: Status) -> None:
        if status.state in _IDLE and self._keyring.is_unlocked:
            self.kick()

    def _busy(self) -> bool:
        return self._worker.closed or self._kit.recorder.status.state not in _IDLE

    def _work(self) -> None:
        try:
            self._round()
        except SealPaused:  # a recording started: the next idle status kicks again
            log.info("sealing waits for the recording to end")
        except Exception:  # logged by the worker, which waits for the next kick
            self.repairing = None
            raise

    def _round(self) -> None:
        identity = self._keyring.held_identity()
        library = self._kit.library
        if identity is not None:  # after a rebuilt index: what only the key can read
            fill_in_after_unlock(library.index, library.data, [identity])
        pending = library.index.all(State.INTERRUPTED)
        damaged = damaged_films(library)
        if identity is None or not (pending or damaged):
            self.repairing = None
            return
        films = ", ".join(
            [f"{_film_of(r.started_at)} after a power cut" for r in pending]
            + [f"{_film_of(library.index.get(i).started_at)}, damaged on the card" for i in damaged]
        )
        later = f"{films[:1].upper()}{films[1:]}: repaired once the recording ends."
        if self._busy():
            self.repairing = later
            return
        self.repairing = f"Repairing {films}…"
        try:
            reports = self._repair([identity])
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

    def _repair(self, identities: list[Identity]) -> list[SealReport]:
        """Interrupted films first (sealed), then films sync found damaged (repaired)."""
        library, recipients = self._kit.library, self._kit.recipients
        reserve, busy = self._reserve, self._busy
        sealed = seal_interrupted(library, identities, recipients, reserve_bytes=reserve, busy=busy)
        return sealed + repair_damaged(
            library, identities, recipients, reserve_bytes=reserve, busy=busy
        )


def _film_of(started_at: str) -> str:
    """'the film of 10:32', in the kit's local time."""
    try:
        return f"the film of {datetime.fromisoformat(started_at).astimezone():%H:%M}"
    except ValueError:
        return "an interrupted film"
