"""Durable, atomic file writes: temp file in the same folder, fsync, rename, fsync folder.

A power cut at any instant leaves either the old file or the new one, never half of one.
Only ever used for ciphertext and for files with no personal data.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from device.errors import LibraryError


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(path: Path, mode: int = 0o600) -> Iterator[BinaryIO]:
    """Yield a file to write; on success it replaces ``path`` durably, on error it vanishes.

    Only a regular file (or nothing) may be replaced: renaming over ``/dev/null``, a pipe or
    a folder would turn a device into a file or hide the folder, so that is refused.
    """
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise LibraryError(
            f"{path} is not a plain file, so it is not replaced",
            hint="Give the name of a new file, or of a file to overwrite.",
        )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    with atomic_writer(path, mode) as f:
        f.write(data)
