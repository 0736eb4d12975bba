"""The kit's data directory: layout, index, audit log and durable file writes."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from device.errors import LibraryError
from device.library.atomic import atomic_write, atomic_writer, fsync_dir, remove_stale_temps
from device.library.audit import AuditLog, AuditRow, verify_chain
from device.library.files import HashingFile, sha256_file
from device.library.health import set_aside, why_rebuild
from device.library.index import (
    FINISHED,
    Index,
    RecordingRow,
    State,
    require_assigned,
    require_finished,
)
from device.library.layout import DataDir, check_recording_id, new_recording_id
from device.library.notes import Notes, NotesStore
from device.library.rebuild import Rebuilt, fill_in_after_unlock, rebuild, rebuilt_words
from device.library.room import keep_room, with_room
from device.library.sidecars import write_encrypted, write_encrypted_json

__all__ = [
    "FINISHED",
    "AuditLog",
    "AuditRow",
    "DataDir",
    "HashingFile",
    "Index",
    "Library",
    "Notes",
    "NotesStore",
    "Rebuilt",
    "RecordingRow",
    "State",
    "atomic_write",
    "atomic_writer",
    "check_recording_id",
    "fill_in_after_unlock",
    "fsync_dir",
    "new_recording_id",
    "rebuilt_words",
    "require_assigned",
    "require_finished",
    "sha256_file",
    "verify_chain",
    "write_encrypted",
    "write_encrypted_json",
]


class Library:
    """One open data directory: paths, the index and the audit log, for one process.

    The kit process (record, run) takes the data dir's ``.lock`` for its whole life: one
    recorder per card. ``vigkit sync`` opens it with ``kit_lock=False`` so it can work while
    the kit runs; it never writes a film, only reads finished files, updates its own index
    columns and (retention) removes ciphertext, under a lock of its own (device.sync.lock).
    """

    def __init__(self, root: Path, *, kit_lock: bool = True) -> None:
        self.data = DataDir(root).ensure()
        self._lock_fd = self._take_lock() if kit_lock else -1
        self.rebuilt: Rebuilt | None = None  # set when this start-up rebuilt the index
        # a full card still opens (the room kept for it): its films can then be erased
        self.index = with_room(self.data, lambda: self._open_index(kit_lock=kit_lock))
        self.audit = AuditLog(self.index)
        if kit_lock:  # the kit's own process: what a killed write left is stale now
            self.remove_stale_temps()
            keep_room(self.data)

    def _open_index(self, *, kit_lock: bool) -> Index:
        why = why_rebuild(self.data)
        if why is None:
            return Index(self.data.database)
        return self._rebuild(why, kit_lock=kit_lock)

    def _take_lock(self, *, rebuilding: bool = False) -> int:
        fd = os.open(self.data.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if rebuilding:
                raise LibraryError(
                    "the kit's list of films (kit.sqlite) is damaged or missing",
                    hint="Restart the kit (sudo systemctl restart vigkit): it rebuilds the "
                    "list from the films on the card; then sync again.",
                ) from None
            raise LibraryError(
                f"another vigkit is already using {self.data.root}",
                hint="Stop it first (sudo systemctl stop vigkit), or use another --data folder.",
            ) from None
        return fd

    def _rebuild(self, why: str, *, kit_lock: bool) -> Index:
        """Set the damaged index aside and fill a new one from the files, holding the
        kit's lock (``vigkit sync`` takes it for the while, or refuses if the kit runs)."""
        lock = self._lock_fd if kit_lock else self._take_lock(rebuilding=True)
        try:
            why = why_rebuild(self.data) or ""  # another process may have rebuilt it
            aside = set_aside(self.data) if why else None
            index = Index(self.data.database)
            if why:
                self.rebuilt = rebuild(index, self.data, why, aside)
            return index
        except OSError as e:
            raise LibraryError(
                f"the kit's index could not be rebuilt: {e.strerror}",
                hint="Check the card is not full or read-only, then start the kit again.",
            ) from e
        finally:
            if not kit_lock:
                os.close(lock)

    def remove_stale_temps(self) -> list[str]:
        """Temp files of killed writes (their process is gone), in the data folder and
        beside the films; at start-up and by retention."""
        return remove_stale_temps(self.data.root) + remove_stale_temps(self.data.recordings)

    def close(self) -> None:
        self.index.close()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)

    def free_bytes(self) -> int:
        st = os.statvfs(self.data.recordings)
        return st.f_bavail * st.f_frsize

    def mark_interrupted(self) -> list[str]:
        """At start-up: anything still 'recording' was cut off (power, crash). Its file is
        left exactly as it is; it is sealed later by salvage, once a key is available."""
        found = [row.id for row in self.index.all(State.RECORDING)]
        for rec_id in found:
            self.index.update(rec_id, state=State.INTERRUPTED, stop_reason="interrupted")
            self.audit.append("recording interrupted", rec_id)
        return found
