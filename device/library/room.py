"""A little room kept on the card for the way out of a full card: ``room.reserve``.

A card filled to the last byte refuses even the index's note that a film was erased
(SQLite needs a few pages for anything it writes) and even opening the index (its
``-shm`` and ``-wal`` files), yet erasing films is how a full card is emptied. So the
library keeps ``ROOM_BYTES`` of zeros in a file of its own; opening the index or erasing
on a full card removes it, does its work (an erase frees far more) and makes it again
once there is room. It holds no data of anyone's, is never synced, and nothing else
may use it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TypeVar

from device.errors import CardFull
from device.library.layout import DataDir

log = logging.getLogger(__name__)

ROOM_BYTES = 256 * 1024  # 64 of SQLite's pages: an erase needs a handful
NAME = "room.reserve"
T = TypeVar("T")


def keep_room(data: DataDir) -> bool:
    """Make the room file if it is missing and the card has space; whether it is there."""
    path = data.root / NAME
    if path.exists():
        return True
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return True
    except OSError:
        return False
    try:
        os.posix_fallocate(fd, 0, ROOM_BYTES)  # the blocks themselves, not a sparse file
        os.fsync(fd)
    except OSError:
        os.close(fd)
        path.unlink(missing_ok=True)
        return False
    os.close(fd)
    return True


def release_room(data: DataDir) -> bool:
    """Give the room back to the card; whether there was any."""
    try:
        (data.root / NAME).unlink()
    except FileNotFoundError:
        return False
    log.warning("the card is full: used the room kept for that (%s)", NAME)
    return True


def with_room(data: DataDir, action: Callable[[], T]) -> T:
    """``action()``; if the card is too full for it, once more with the room released
    (then the room is made again, if the card has space by then)."""
    try:
        return action()
    except CardFull:
        if not release_room(data):
            raise
    try:
        return action()
    finally:
        keep_room(data)
