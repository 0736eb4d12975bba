"""Damaged files are set aside, never deleted, so each one fails alone.

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

A film damaged on the card after recording (sync finds it no longer hashes as recorded)
is repaired from its intact fragments (``device.recording.repair``); the damaged file is
kept as ``<id>.mp4.age.damaged`` and what was lost is noted here (``FilmDamage``, in the
index's ``meta``) for the page.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from device.errors import HeaderError, MediaFormatError, PayloadError
from device.library.atomic import fsync_dir
from device.library.index import Index
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


@dataclass(frozen=True)
class FilmDamage:
    """What a repair of a film damaged on the card could not keep."""

    lost_s: float
    gaps: tuple[tuple[float, float], ...]  # (start, length) in seconds from the start

    def sentence(self) -> str:
        """What the page says about it."""
        at = ", ".join(f"{int(a) // 60}:{int(a) % 60:02d}" for a, _ in self.gaps)
        about = max(round(self.lost_s), 1)
        return (
            "This film was damaged on the card after recording: about "
            f"{about} s {'is' if about == 1 else 'are'} unreadable{f' (at {at})' if at else ''}."
        )


def _damage_key(rec_id: str) -> str:
    return f"damage:{rec_id}"


def record_damage(index: Index, rec_id: str, damage: FilmDamage) -> None:
    doc = {"lost_s": damage.lost_s, "gaps": [list(g) for g in damage.gaps]}
    index.set_meta(_damage_key(rec_id), json.dumps(doc))


def film_damage(index: Index, rec_id: str) -> FilmDamage | None:
    """What a repair lost of this film, if it was ever repaired."""
    text = index.meta(_damage_key(rec_id))
    if text is None:
        return None
    try:
        doc = json.loads(text)
        gaps = tuple((float(a), float(n)) for a, n in doc["gaps"])
        return FilmDamage(float(doc["lost_s"]), gaps)
    except (ValueError, KeyError, TypeError):
        return FilmDamage(0.0, ())
