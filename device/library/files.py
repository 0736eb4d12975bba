"""A ciphertext sink that counts and hashes every byte on its way to disk.

The age writer writes into this; the SHA-256 of the ciphertext goes into the index and
later into the sync manifest, so the office can prove it received exactly these bytes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from types import TracebackType

from device.library.atomic import fsync_dir


class HashingFile:
    """Append-only file for a new recording; ``O_EXCL`` so nothing is ever overwritten."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fsync_dir(path.parent)  # the new name must survive a power cut too
        self._hash = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> int:
        view = memoryview(data)
        written = 0
        while written < len(view):  # os.write may write less than asked
            written += os.write(self._fd, view[written:])
        self._hash.update(view)
        self.size += written
        return written

    def flush(self) -> None:
        """Nothing is buffered here; durability is ``sync``."""

    def fileno(self) -> int:
        return self._fd

    def sync(self) -> None:
        os.fdatasync(self._fd)

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                os.fsync(self._fd)
            finally:
                os.close(self._fd)

    def __enter__(self) -> HashingFile:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()
