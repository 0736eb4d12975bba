"""What sync sends: every ``recordings/<id>.*.age`` of a recording that is not being
recorded (film, interrupted original, notes, exports, thumbnails, fragment index), each
with its size and SHA-256, and whether that exact content is already verified remotely.

Hashes are cached in the index by size and modification time: every kit write is an
atomic rename, so changed content always comes with a new mtime, and a film of an hour is
not read again on every run.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from device.library import DataDir, Index, RecordingRow, State, sha256_file
from device.library.layout import is_recording_id
from device.sync.state import file_record, save_hash

log = logging.getLogger(__name__)

# what follows "<id>." in a name DataDir.derived or DataDir.film gives (film, interrupted
# original, notes, index, thumbs, markers, clip-3.mp4, still-2.jpg…)
_KIND = re.compile(r"[a-z0-9-]+(\.[a-z0-9]+)?\.age")

# Recordings in these states have nothing to send (yet, or any more).
NOT_SENT = (State.RECORDING, State.ERASED, State.DELETED)
SEALED = (State.COMPLETE, State.RECOVERED)  # films whose recorded SHA-256 is final


@dataclass(frozen=True)
class OutFile:
    recording: str
    name: str
    path: Path
    size: int
    mtime_ns: int
    sha256: str
    verified: bool
    damaged: bool = False  # not the bytes the kit wrote: its recorded SHA-256 differs


def recording_paths(data: DataDir, rec_id: str) -> list[Path]:
    """The recording's ciphertext files; temp files (leading dot) never match. Anything
    else named like one — a folder, a link, an odd name someone copied in — is left
    alone with a log line (it once crashed sync with a traceback)."""
    found = []
    for path in sorted(data.recordings.glob(f"{rec_id}.*.age")):
        kind = path.name[len(rec_id) + 1 :]
        if _KIND.fullmatch(kind) and path.is_file() and not path.is_symlink():
            found.append(path)
        else:
            log.warning("sync leaves %s alone: it is not a file the kit wrote", path.name)
    return found


def out_file(
    index: Index, recording: str, path: Path, recorded: RecordingRow | None = None
) -> OutFile | None:
    """The file as it is now, hashed (or from the cache); None if it just vanished.
    ``recorded``: the film's row, whose SHA-256 the recorder took as it wrote the file;
    a film that hashes otherwise now was damaged on the card since (``damaged``)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    known = file_record(index, recording, path.name)
    if known is not None and (known.size, known.mtime_ns) == (st.st_size, st.st_mtime_ns):
        sha, verified = known.sha256, known.verified_at is not None
    else:
        try:
            sha = sha256_file(path)  # read once more, but damage is found before it is sent
        except FileNotFoundError:
            return None
        save_hash(index, recording, path.name, st.st_size, st.st_mtime_ns, sha)
        again = file_record(index, recording, path.name)
        verified = again is not None and again.verified_at is not None
    damaged = recorded is not None and bool(recorded.sha256) and sha != recorded.sha256
    return OutFile(recording, path.name, path, st.st_size, st.st_mtime_ns, sha, verified, damaged)


def unchanged(f: OutFile) -> bool:
    """Still exactly the file that was hashed (checked again before it counts as synced)."""
    try:
        st = f.path.stat()
    except FileNotFoundError:
        return False
    return (st.st_size, st.st_mtime_ns) == (f.size, f.mtime_ns)


def to_send(index: Index) -> list[RecordingRow]:
    """Recordings with files to consider, oldest first (the office gets them in order).
    Unassigned films (``held``) stay on the kit until assigned to a case or erased."""
    return [row for row in reversed(index.all()) if row.state not in NOT_SENT and not row.held]


def collect(data: DataDir, index: Index, row: RecordingRow) -> list[OutFile]:
    film = data.film(row.id)
    found = (
        out_file(index, row.id, p, row if p == film and row.state in SEALED else None)
        for p in recording_paths(data, row.id)
    )
    return [f for f in found if f is not None]


def not_listed(data: DataDir, index: Index) -> list[str]:
    """Ids of films on the card that the index does not list: sync cannot send what it
    does not know of, so it must never call the office's copy complete while any is."""
    known = {row.id for row in index.all()}
    on_card = {
        rec_id
        for p in data.recordings.glob("*.mp4.age")
        if is_recording_id(rec_id := p.name.split(".", 1)[0])
    }
    return sorted(on_card - known)


def held(index: Index) -> list[str]:
    """Films held on the kit as Unassigned: never sent until assigned to a case."""
    return [row.id for row in index.all() if row.held and row.state not in NOT_SENT]
