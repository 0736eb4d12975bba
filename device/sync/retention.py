"""Retention on the kit: remove a recording's ciphertext once the office copy is proven.

- A film synced and verified is removed ``retention_days`` after its last verification,
  or as soon as its shared review is marked done.
- Never before verification: every file of the recording must be hashed again now and
  match a hash verified on the remote; a file changed since (notes edited) keeps it all.
- The consent's erase-by date removes it regardless, synced or not: that is what the date
  promises the family. It is logged in the audit log like every erasure.
- What is removed is the recording's ciphertext files (and its plain manifest copy); the
  index row stays, in state "erased", with ids and times only. An SD card cannot promise
  the blocks are physically gone (wear levelling); without a key they are unreadable.

Time comes from an injectable clock; tests drive it with a fake one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from device.library import Library, RecordingRow, State, fsync_dir, sha256_file
from device.sync import state as st
from device.sync.manifest import manifest_name
from device.sync.outbox import recording_paths


@dataclass(frozen=True)
class Erased:
    recording: str
    reason: str
    files: int


class Retention:
    def __init__(
        self, *, library: Library, retention_days: float, clock: st.Clock = st.utc_now
    ) -> None:
        self._library = library
        self._grace = timedelta(days=retention_days)
        self._clock = clock

    def run(self, lock_wait_s: float = 30.0) -> list[Erased]:
        """On its own: takes the sync lock, so it never runs beside a sync."""
        with st.SyncLock(self._library.data.root) as lock:
            lock.acquire(lock_wait_s)
            return self.run_locked()

    def run_locked(self) -> list[Erased]:
        """For a caller already holding the sync lock (the sync itself)."""
        self._library.remove_stale_temps()  # killed exports, stills, thumbnails
        erased = []
        for row in self._library.index.all():
            if row.state == State.RECORDING:
                continue  # a file being written is never touched
            reason = self.reason(row)
            if reason is not None:
                erased.append(self._erase(row, reason))
        return erased

    def reason(self, row: RecordingRow) -> str | None:
        """Why this recording should go now, or None to keep it."""
        now = self._clock()
        if row.state == State.ERASED and not recording_paths(self._library.data, row.id):
            return None
        if row.erase_by and now.date() >= date.fromisoformat(row.erase_by):
            return f"consent erase-by date {row.erase_by}"
        if row.state == State.ERASED:  # finish an erasure a power cut interrupted
            return "finishing an earlier erasure" if self._all_verified(row) else None
        if row.sync_state != st.SyncState.SYNCED or not row.synced_at:
            return None
        if row.review_done:
            why = "synced and verified; shared review done"
        elif now - datetime.fromisoformat(row.synced_at) >= self._grace:
            why = (
                f"synced and verified {(now - datetime.fromisoformat(row.synced_at)).days} days ago"
            )
        else:
            return None
        return why if self._all_verified(row) else None

    def _all_verified(self, row: RecordingRow) -> bool:
        """Every file there is now was verified remotely with exactly this content."""
        paths = recording_paths(self._library.data, row.id)
        for path in paths:
            known = st.file_record(self._library.index, row.id, path.name)
            if known is None or known.verified_at is None:
                return False
            try:
                if sha256_file(path) != known.sha256:
                    return False
            except FileNotFoundError:
                continue
        return True

    def _erase(self, row: RecordingRow, reason: str) -> Erased:
        library = self._library
        # the row says "erased" before any file goes: a power cut part-way leaves the rest
        # to the next pass, and sync never sends a half-erased recording's manifest again
        if row.state != State.ERASED:
            library.index.update(row.id, state=State.ERASED, erased_at=st.stamp(self._clock))
        paths = recording_paths(library.data, row.id)
        library.audit.append("erase", row.id, reason=reason, files=len(paths))
        for path in paths:
            path.unlink(missing_ok=True)
        (library.data.root / "outbox" / manifest_name(row.id)).unlink(missing_ok=True)
        fsync_dir(library.data.recordings)
        return Erased(row.id, reason, len(paths))
