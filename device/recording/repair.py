"""Repairing a finished film that was damaged on the card after it was recorded.

Sync finds such a film before sending it: its bytes no longer hash as the kit recorded
them (``device.sync``, sync state *damaged*), so it is not sent as good. Once a key is at
hand (the kit unlocked), it is rebuilt like an interrupted film
(``device.recording.recovery``): every fragment whose age chunks all authenticate is
re-encrypted under a fresh file key, the fragments that touch a damaged chunk (about a
second each) are left out, and the film plays to its end with a gap there. The repaired
copy is then sent by the next sync, with its new hash; the audit log says what was lost.

The steps, each safe to be killed after and run again (the sync state says *damaged*
until the last one):

1. the damaged film gets a second name, ``<id>.mp4.age.damaged`` (a hard link, so the
   film's own name never goes missing); from here on that is the only source and
   nothing writes or renames over it — it goes only when the recording is erased;
2. the repaired copy is written to a temp file and fsync'd, then renamed over
   ``<id>.mp4.age``;
3. the fragment index, the damage note for the page, and the index row (size, hash,
   sync state back to *not sent*), then the audit line.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence

from device import age
from device.library import FINISHED, Library, fsync_dir, write_encrypted
from device.library.damaged import SUFFIX, FilmDamage, record_damage
from device.recording.recovery import (
    SealReport,
    check_room,
    each_film,
    never,
    write_salvaged,
)
from device.sync.state import SyncState

log = logging.getLogger(__name__)


def damaged_films(library: Library) -> list[str]:
    """Finished films sync found damaged and not yet repaired."""
    return [
        row.id
        for row in library.index.all()
        if row.sync_state == SyncState.DAMAGED and row.state in FINISHED
    ]


def repair_damaged(
    library: Library,
    identities: Sequence[age.Identity],
    recipients: Sequence[age.Recipient],
    *,
    reserve_bytes: int = 0,
    busy: Callable[[], bool] = never,
) -> list[SealReport]:
    """Repair every film sync found damaged; one that cannot be repaired is reported and
    left for the next try (``SealPaused`` stops them all). Under the sealing lock."""
    return each_film(
        library, lambda: damaged_films(library), repair, identities, recipients, reserve_bytes, busy
    )


def repair(
    library: Library,
    rec_id: str,
    identities: Sequence[age.Identity],
    recipients: Sequence[age.Recipient],
    reserve_bytes: int = 0,
    busy: Callable[[], bool] = never,
) -> SealReport:
    """Repair one damaged film; call it holding ``seal_lock``."""
    data = library.data
    film = data.film(rec_id)
    source = film.with_name(film.name + SUFFIX)
    if not source.exists():  # step 1 (done already if an earlier run was killed)
        os.link(film, source)
        fsync_dir(data.recordings)
    check_room(library, rec_id, source.stat().st_size, reserve_bytes, what="damaged")
    size, sha, sealed = write_salvaged(data, rec_id, source, identities, recipients, busy)
    write_encrypted(data, rec_id, "index", sealed.index.to_json().encode(), recipients)
    record_damage(library.index, rec_id, FilmDamage(sealed.lost_s, sealed.gaps))
    length_s = round(sealed.kept_s + sealed.lost_s, 3)
    library.index.update(
        rec_id, duration_s=length_s, size=size, sha256=sha, sync_state=SyncState.NOT_SYNCED
    )
    library.audit.append(
        "damaged film repaired",
        rec_id,
        kept_s=sealed.kept_s,
        lost_s=sealed.lost_s,
        gaps=sealed.gaps,
        original=source.name,
    )
    log.info("%s repaired: %.1f s kept, %.1f s lost", rec_id, sealed.kept_s, sealed.lost_s)
    return SealReport(rec_id, sealed.kept_s, size, lost_s=sealed.lost_s)
