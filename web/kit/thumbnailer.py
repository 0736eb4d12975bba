"""Thumbnails for the film page's timeline, made in the background and kept encrypted.

Making them needs the kit's identity (to decrypt the film), so it happens only while the
kit is unlocked, on one low-priority thread, and only while the recorder is idle: a
press of the button waits for nothing, and the work stops between two films as soon as a
recording starts. Each film gets about ``STRIP_LENGTH`` pictures (one every two seconds
for a short film), stored encrypted next to the film by ``device.library.thumbs``. A full
card stops a run without giving up on the film: a later run (every ``_IDLE_WAKE_S``,
after a recording or an unlock) tries it again once space has returned.

``strip`` hands the page one film's thumbnails, decrypted into memory only; the last
film asked for is kept in memory, so scrolling the strip does not decrypt it again.
"""

from __future__ import annotations

import logging

from device import age
from device.errors import CardFull
from device.kit.assembly import Kit
from device.library import State
from device.library.thumbs import load_thumbnails, save_thumbnails
from device.media.thumbnails import Thumbnail, make_thumbnails
from device.recording.recorder import RecorderState, Status
from device.threads import OnDemandWorker
from web.common.keyring import Keyring
from web.common.serving import lower_this_thread

log = logging.getLogger(__name__)

STRIP_LENGTH = 120  # pictures across a whole film, however long
MIN_EVERY_S = 2.0
THUMB_WIDTH = 192
BACKGROUND_NICE = 15  # below the page, far below the recorder
_IDLE_WAKE_S = 30.0


def every_s(duration_s: float) -> float:
    return max(MIN_EVERY_S, duration_s / STRIP_LENGTH)


class Thumbnailer:
    def __init__(self, kit: Kit, keyring: Keyring, *, enabled: bool = True) -> None:
        self._kit = kit
        self._keyring = keyring
        self._enabled = enabled
        self._worker = OnDemandWorker(
            self._work,
            name="vigkit-thumbnails",
            join_s=30,
            wake_every_s=_IDLE_WAKE_S,
            on_start=lambda: lower_this_thread(BACKGROUND_NICE),
        )
        self._failed: set[str] = set()
        self._full_at: int | None = None  # the card's free bytes when it was last full
        self._cache: tuple[str, list[Thumbnail]] | None = None
        if enabled:
            kit.recorder.subscribe(self._on_status)

    def kick(self) -> None:
        """Look for films without thumbnails now (after an unlock, after a recording)."""
        if self._enabled:
            self._worker.kick()

    def close(self) -> None:
        self._worker.close()
        self._cache = None

    def strip(self, rec_id: str) -> list[Thumbnail] | None:
        """The film's thumbnails (None: not made yet); call only while unlocked."""
        identity = self._keyring.held_identity()
        if identity is None:  # locked (or timed out) since: forget what was decrypted
            self._cache = None
            return None
        cached = self._cache
        if cached is not None and cached[0] == rec_id:
            return cached[1]
        thumbs = load_thumbnails(self._kit.library.data, rec_id, [identity])
        if thumbs is not None:
            self._cache = (rec_id, thumbs)
        else:  # someone is looking: a run that stopped on a full card tries again now
            self.kick()
        return thumbs

    def forget(self) -> None:
        """Drop the decrypted strip from memory (on Lock)."""
        self._cache = None

    # --- the background thread ---------------------------------------------------------

    def _on_status(self, status: Status) -> None:
        if status.state == RecorderState.IDLE and self._keyring.is_unlocked:
            self.kick()

    def _idle(self) -> bool:
        return self._kit.recorder.status.state in (RecorderState.IDLE, RecorderState.FAULT)

    def _work(self) -> None:
        while not self._worker.closed and self._idle() and self._make_one():
            pass

    def _make_one(self) -> bool:
        """Thumbnails for one film that lacks them; False when there is nothing to do."""
        identity = self._keyring.held_identity()
        if identity is None:
            return False
        if not self._room_again():
            return False
        data = self._kit.library.data
        for row in self._kit.library.index.all():
            if row.state not in (State.COMPLETE, State.RECOVERED) or row.id in self._failed:
                continue
            if data.derived(row.id, "thumbs").exists():
                continue
            try:
                self._make(row.id, row.duration_s or 0.0, identity)
            except CardFull:  # not the film's fault: tried again once space returns
                log.warning("no room on the card for %s's thumbnails; trying again later", row.id)
                self._full_at = self._kit.library.free_bytes()
                return False
            except Exception:  # one bad film must not stop the others; it keeps its film
                log.exception("could not make thumbnails for %s", row.id)
                self._failed.add(row.id)
            return True
        return False

    def _room_again(self) -> bool:
        """After a full card, decoding a film again is worth it only once space returned."""
        if self._full_at is not None and self._kit.library.free_bytes() <= self._full_at:
            return False
        self._full_at = None
        return True

    def _make(self, rec_id: str, duration_s: float, identity: age.Identity) -> None:
        data = self._kit.library.data
        with data.film(rec_id).open("rb") as source, age.Reader(source, [identity]) as film:
            thumbs = make_thumbnails(film, every_s=every_s(duration_s), width=THUMB_WIDTH)
        if not self._idle():  # a recording started meanwhile: it is no worse to wait
            return
        save_thumbnails(data, rec_id, thumbs, self._kit.recipients)
        if self._kit.library.index.get(rec_id).state == State.DELETED:
            # erased while they were being made: the erasure marks the row before it
            # removes files, so checking after saving never leaves them behind
            data.derived(rec_id, "thumbs").unlink(missing_ok=True)
            return
        log.info("made %d thumbnails for %s", len(thumbs), rec_id)
