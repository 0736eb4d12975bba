"""Damaged sidecars are set aside, never deleted, so each one fails alone.

A recording's small files (notes, thumbnails, fragment index) sit beside its film. If
one of them cannot be read (cut short by a power cut, a bad card sector), the film must
stay watchable: the damaged file is renamed to ``<name>.damaged`` and the kit goes on
without it — notes start a new file, thumbnails are made again, the fragment index is
rebuilt by scanning the film.

What becomes of a ``.damaged`` file: it stays on the card, still encrypted, for as long
as its film does (someone with the office key may still read part of it from the card);
sync does not send it (its name is not ``*.age``: the office gets the film's working
sidecars, and a file that cannot be decrypted would only fail ``office verify``'s
checks for nothing); retention never removes it on its own, and it goes with its film —
when retention removes the film after its safe copy, or when the film is erased on
request (:func:`damaged_files`). A rebuilt index ignores it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from device.errors import HeaderError, MediaFormatError, PayloadError
from device.library.atomic import fsync_dir
from device.library.layout import DataDir, check_recording_id

log = logging.getLogger(__name__)

SUFFIX = ".damaged"

# What a damaged file raises when read: its age layers (header, body cut short or
# altered), or plaintext that is not what it should be. A wrong key (NoIdentityMatch)
# is not damage, and neither is a missing file.
DAMAGE: tuple[type[Exception], ...] = (
    HeaderError,
    PayloadError,
    MediaFormatError,
    UnicodeDecodeError,
    json.JSONDecodeError,
    KeyError,
    TypeError,
)


def set_aside(path: Path) -> Path:
    """Rename the damaged ``path`` to ``<name>.damaged`` (``.damaged-2``… if taken)."""
    target = path.with_name(path.name + SUFFIX)
    n = 2
    while target.exists():
        target = path.with_name(f"{path.name}{SUFFIX}-{n}")
        n += 1
    path.rename(target)
    fsync_dir(path.parent)
    log.warning("%s could not be read (damaged); kept as %s", path.name, target.name)
    return target


def set_aside_files(data: DataDir, rec_id: str, kind: str) -> list[str]:
    """The names of this recording's ``kind`` files set aside as damaged, oldest first."""
    name = data.derived(rec_id, kind).name
    return sorted(p.name for p in data.recordings.glob(f"{name}{SUFFIX}*"))


def damaged_files(data: DataDir, rec_id: str) -> list[Path]:
    """Every file of this recording set aside as damaged (they go when the film goes)."""
    found = data.recordings.glob(f"{check_recording_id(rec_id)}.*.age{SUFFIX}*")
    return sorted(p for p in found if p.is_file() and not p.is_symlink())
