"""Durable, atomic file writes: temp file in the same folder, fsync, rename, fsync folder.

A power cut at any instant leaves either the old file or the new one, never half of one.
Only ever used for ciphertext and for files with no personal data.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from device.errors import CardFull, LibraryError, is_card_full

log = logging.getLogger(__name__)

# the temp name atomic_writer gives: ".<name>.<pid>.tmp"
_TEMP = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.tmp")


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(path: Path, mode: int = 0o600) -> Iterator[BinaryIO]:
    """Yield a file to write; on success it replaces ``path`` durably, on error it vanishes.

    A card that takes no more raises :class:`CardFull` (callers that save something
    other than typed words say what with ``card_full_as``).

    Only a regular file (or nothing) may be replaced: renaming over ``/dev/null``, a pipe or
    a folder would turn a device into a file or hide the folder, so that is refused.
    """
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise LibraryError(
            f"{path} is not a plain file, so it is not replaced",
            hint="Give the name of a new file, or of a file to overwrite.",
        )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    except BaseException as e:
        tmp.unlink(missing_ok=True)  # a full card gets its bytes back at once
        if isinstance(e, OSError) and not isinstance(e, CardFull) and is_card_full(e):
            raise CardFull(generic=True) from e  # the old file is intact: only this save failed
        raise
    fsync_dir(path.parent)


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    with atomic_writer(path, mode) as f:
        f.write(data)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def remove_stale_temps(folder: Path) -> list[str]:
    """Remove the temp files a killed writer left in ``folder`` (an export, a still,
    thumbnails cut short): only those whose writing process is gone. They hold
    ciphertext, never committed, so nothing is lost. Returns the names removed."""
    removed = []
    for path in sorted(folder.glob(".*.tmp")):
        found = _TEMP.fullmatch(path.name)
        if found is None or not path.is_file() or path.is_symlink():
            continue
        pid = int(found["pid"])
        if pid == os.getpid() or _alive(pid):
            continue  # a save under way (this process's, or another's) is left to finish
        path.unlink(missing_ok=True)
        removed.append(path.name)
        log.info("removed %s, left by a write that was killed", path.name)
    if removed:
        fsync_dir(folder)
    return removed
