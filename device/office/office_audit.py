"""The office's audit log: ``office-audit.jsonl`` in each kit folder, append-only.

One JSON line per removal ``vigkit office retention`` made (when, which recording, why,
which files), hash-chained like the kit's own log (:mod:`device.library.audit`), so an
edited, removed or reordered line shows in ``vigkit office verify``. It lives beside the
kit's files because it is about them: a copy of the kit folder carries its own history.
The kit never writes a file of this name, and sync sends only the kit's files by name,
so no sync ever overwrites it. It holds ids, dates and file names only.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from device.errors import ArchiveError
from device.library import AuditRow, fsync_dir
from device.library.audit import GENESIS, row_hash

OFFICE_AUDIT_NAME = "office-audit.jsonl"
ERASE_EVENT = "office erase"


def read_log(folder: Path) -> list[AuditRow]:
    """The log's rows in order ([] when the office never erased anything here)."""
    path = folder / OFFICE_AUDIT_NAME
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return []
    rows = []
    for n, line in enumerate(lines, 1):
        try:
            rows.append(AuditRow.from_json(json.loads(line)))
        except (KeyError, TypeError, ValueError) as e:
            raise ArchiveError(f"{OFFICE_AUDIT_NAME} line {n} is damaged ({e})") from e
    return rows


def append(folder: Path, at: datetime, recording: str, **detail: Any) -> AuditRow:
    """Add one erase row and make it durable (fsync) before the caller removes a file."""
    rows = read_log(folder)
    prev = rows[-1].hash if rows else GENESIS
    stamp = at.isoformat(timespec="seconds")
    detail_json = json.dumps(detail, sort_keys=True, separators=(",", ":"))
    digest = row_hash(prev, stamp, ERASE_EVENT, recording, detail_json)
    row = AuditRow(len(rows) + 1, stamp, ERASE_EVENT, recording, detail, prev, digest)
    line = json.dumps(asdict(row), sort_keys=True, separators=(",", ":")) + "\n"
    path = folder / OFFICE_AUDIT_NAME
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(folder)
    return row


def erased(folder: Path) -> dict[str, AuditRow]:
    """Recording id → the office's last erase row for it."""
    return {row.recording: row for row in read_log(folder) if row.event == ERASE_EVENT}
