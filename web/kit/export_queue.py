"""Frame-exact clips asked for while the kit records: made once the recording ends.

Re-encoding a clip keeps a Pi's cores busy for minutes; while the kit records, the
camera and the muxer need them (frames the camera skips under load are lost for good).
So a frame-exact export asked for then is queued here — the page says "Your clip will
be made when the recording ends." — and one low-priority thread makes the queued clips
once the recorder is idle and the kit is unlocked (the key is needed to read the film).
A clip cut by stream copy costs no decoding and is made at once, recording or not.

The queue is in memory: a restart forgets it (the clip stays in the notes, not yet
exported, and the film page offers Export again).
"""

from __future__ import annotations

import logging
import threading

from device.errors import VigKitError
from device.kit.assembly import Kit
from device.library import exports
from device.library.notes import NotesStore
from device.recording.recorder import RecorderState, Status
from device.threads import OnDemandWorker
from web.common.keyring import Keyring
from web.common.serving import lower_this_thread

log = logging.getLogger(__name__)

QUEUED = "Your clip will be made when the recording ends."
BACKGROUND_NICE = 15  # like the thumbnails: below the page, far below the recorder


class ExportQueue:
    def __init__(self, kit: Kit, keyring: Keyring, notes: NotesStore) -> None:
        self._kit, self._keyring, self._notes = kit, keyring, notes
        self._jobs: list[tuple[str, str]] = []  # (recording, clip), oldest first
        self._lock = threading.Lock()
        self._worker = OnDemandWorker(
            self._work,
            name="vigkit-exports",
            join_s=30,
            on_start=lambda: lower_this_thread(BACKGROUND_NICE),
        )
        kit.recorder.subscribe(self._on_status)

    def busy(self) -> bool:
        """Whether heavy work must wait: the kit is recording (or saving a film)."""
        return self._kit.recorder.status.state not in (RecorderState.IDLE, RecorderState.FAULT)

    def add(self, rec_id: str, clip_id: str) -> None:
        with self._lock:
            if (rec_id, clip_id) not in self._jobs:
                self._jobs.append((rec_id, clip_id))
        self.kick()

    def queued(self, rec_id: str) -> list[str]:
        """The film's clips waiting to be made."""
        with self._lock:
            return [clip for rec, clip in self._jobs if rec == rec_id]

    def kick(self) -> None:
        """Make the queued clips now if the kit is idle (after a recording, an unlock)."""
        self._worker.kick()

    def close(self) -> None:
        self._worker.close()

    def _on_status(self, status: Status) -> None:
        if status.state == RecorderState.IDLE:
            self.kick()

    def _work(self) -> None:
        while not self._worker.closed and not self.busy():
            identity = self._keyring.held_identity()
            with self._lock:
                if identity is None or not self._jobs:
                    return  # locked: the next unlock kicks the queue again
                rec_id, clip_id = self._jobs.pop(0)
            try:
                exports.export_clip(
                    self._kit.library, self._notes, rec_id, clip_id, [identity],
                    self._kit.recipients, exact=True,
                )  # fmt: skip
                log.info("made the queued clip %s of %s", clip_id, rec_id)
            except VigKitError as e:  # the clip stays in the notes; Export again on the page
                log.warning("the queued clip %s of %s was not made: %s", clip_id, rec_id, e)
