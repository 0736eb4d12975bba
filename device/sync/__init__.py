"""Sync to the office with rclone, verified end to end, and retention on the kit.

``Syncer(...).run(progress=…)`` sends and verifies (the CLI and, later, the page's "Sync
now" call it in-process); ``read_status`` is what the page shows; ``Retention`` removes
ciphertext once the office copy is proven (or the consent's erase-by date has come).
"""

from device.sync.engine import Progress, Syncer, SyncResult, remote_folder
from device.sync.manifest import Manifest, parse_audit, parse_manifest
from device.sync.rclone import Rclone
from device.sync.retention import Erased, Retention
from device.sync.state import RecordingSync, SyncLock, SyncState, SyncStatus, read_status

__all__ = [
    "Erased",
    "Manifest",
    "Progress",
    "Rclone",
    "RecordingSync",
    "Retention",
    "SyncLock",
    "SyncResult",
    "SyncState",
    "SyncStatus",
    "Syncer",
    "parse_audit",
    "parse_manifest",
    "read_status",
    "remote_folder",
]
