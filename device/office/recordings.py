"""The recordings of a synced archive as the office's review page sees them, read-only.

The kit's page lists recordings from its SQLite index; at the office the manifests are
the index: each says which kit made the recording, its state, its length and every file
the kit sent. Nothing here writes, renames or deletes a file: films, fragment indexes,
thumbnails, notes and exports are only ever opened for reading and decrypted in memory.

Small files whose words the office trusts (notes, button markers, timeline pictures)
are read only as the kit's signed manifest lists them (:func:`archive.read_listed`).

The archive is read again when the list is shown, so a sync that arrives while the page
is open appears on the next reload. A kit folder is named in URLs by its folder name (the
kit's id), made unique with ``~2``, ``~3``… should two folders share one; a recording is
found only among what the manifests list, never by joining a path from a request.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from device import age
from device.errors import ArchiveError, NotesError
from device.library import Notes
from device.library import notes_schema as schema
from device.library.layout import is_recording_id
from device.library.thumbs import unpack_thumbnails
from device.media.thumbnails import Thumbnail
from device.office import office_audit
from device.office.archive import KitFolder, open_archive, read_listed
from device.office.kit_register import Register
from device.sync.manifest import Manifest

PLAYABLE = ("complete", "recovered")  # sealed films (device.library.State.FINISHED)
EXPORT_KIND = re.compile(r"(clip|still)-[0-9]+\.(mp4|jpg)")


class NotInArchive(ArchiveError, KeyError):
    """A kit folder or recording the archive does not have (a 404 on the page)."""

    hint = "The list of recordings shows every film in the archive."

    def __str__(self) -> str:  # KeyError quotes its argument; we want the sentence
        return self.message


@dataclass(frozen=True)
class ArchiveRecording:
    """One recording as its kit's manifest describes it."""

    kit: str  # the kit folder's name in URLs (unique within the archive)
    folder: Path
    manifest: Manifest

    @property
    def id(self) -> str:
        return self.manifest.recording

    @property
    def state(self) -> str:
        return self.manifest.state

    @property
    def duration_s(self) -> float:
        return self.manifest.duration_s

    @property
    def started(self) -> datetime | None:
        """When filming started, from the id (the kit's clock, in UTC)."""
        try:
            return datetime.strptime(self.id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            return None

    def file(self, kind: str) -> Path:
        """``<id>.<kind>.age`` in the kit folder: ``mp4``, ``index``, ``notes``…"""
        return self.folder / f"{self.id}.{kind}.age"

    def read_listed(self, kind: str) -> bytes | None:
        """``<id>.<kind>.age``'s bytes, only as the kit's signed manifest lists them (None:
        not in the archive); ArchiveError if they differ."""
        return read_listed(self.folder, self.manifest, f"{self.id}.{kind}.age")

    def export_file(self, kind: str) -> Path:
        """An exported clip or still (``clip-1.mp4``) the notes name, if the manifest
        lists it: a name from the notes is never trusted as a path."""
        name = f"{self.id}.{kind}.age"
        if not EXPORT_KIND.fullmatch(kind) or not self.listed(name):
            raise NotInArchive(
                "that clip or still is not in the archive",
                hint="It may not have been exported on the kit, or not synced yet.",
            )
        return self.folder / name

    def listed(self, name: str) -> bool:
        return any(entry.name == name for entry in self.manifest.files)

    def not_arrived(self) -> list[str]:
        """Files the manifest lists that are absent or of another size (a sync still
        under way, or a copy cut short). A size check only: ``vigkit office verify``
        compares every hash."""
        missing = []
        for entry in self.manifest.files:
            try:
                size = (self.folder / entry.name).stat().st_size
            except OSError:
                size = -1
            if size != entry.size:
                missing.append(entry.name)
        return missing

    @property
    def playable(self) -> bool:
        """A sealed film whose film and fragment index have both arrived whole."""
        if self.state not in PLAYABLE:
            return False
        incomplete = set(self.not_arrived())
        needed = (self.file("mp4"), self.file("index"))
        return all(path.is_file() and path.name not in incomplete for path in needed)


class ArchiveRecordings:
    """Read-only access to the recordings under one archive folder; thread safe."""

    def __init__(self, root: Path, register: Register) -> None:
        """``register``: the office's kits; only what they signed is served."""
        self.root = root
        self.register = register
        self._lock = threading.Lock()
        self._kits: dict[str, KitFolder] = {}
        self.scan()

    def scan(self) -> list[KitFolder]:
        """Read the archive's manifests again (ArchiveError if there are none)."""
        found = open_archive(self.root, self.register)
        named: dict[str, KitFolder] = {}
        for kit in found:
            name, n = kit.name, 1
            while name in named:
                n += 1
                name = f"{kit.name}~{n}"
            named[name] = kit
        with self._lock:
            self._kits = named
        return found

    def kits(self) -> dict[str, KitFolder]:
        """Each kit folder, with what its kit signed, by its name in URLs (rescanned)."""
        self.scan()
        with self._lock:
            return dict(self._kits)

    def all(self) -> list[ArchiveRecording]:
        """Every recording in every kit folder, newest first (rescanned)."""
        self.scan()
        with self._lock:
            kits = dict(self._kits)
        recordings = [
            ArchiveRecording(name, kit.path, manifest)
            for name, kit in kits.items()
            for manifest in _kept(kit)
        ]
        return sorted(recordings, key=lambda r: (r.id, r.kit), reverse=True)

    def get(self, kit: str, rec_id: str) -> ArchiveRecording:
        """The recording ``rec_id`` of kit folder ``kit``, or NotInArchive."""
        if not is_recording_id(rec_id):
            raise NotInArchive("there is no such recording in this archive")
        found = self._find(kit, rec_id)
        if found is None:  # perhaps it arrived since the last look
            self.scan()
            found = self._find(kit, rec_id)
        if found is None:
            raise NotInArchive("there is no such recording in this archive")
        return found

    def _find(self, kit: str, rec_id: str) -> ArchiveRecording | None:
        with self._lock:
            folder = self._kits.get(kit)
        if folder is None or rec_id not in {m.recording for m in _kept(folder)}:
            return None
        return ArchiveRecording(kit, folder.path, folder.manifests[rec_id])


def _kept(kit: KitFolder) -> list[Manifest]:
    """The kit folder's recordings but those ``vigkit office retention`` erased (their
    manifests stay as evidence for verify; there is nothing left to show)."""
    try:
        gone = office_audit.erased(kit.path)
    except ArchiveError:
        gone = {}
    return [m for m in kit.manifests.values() if m.recording not in gone]


def read_notes(rec: ArchiveRecording, identities: Sequence[age.Identity]) -> Notes:
    """The recording's notes as the kit last sent them (button marks merged), decrypted
    in memory. A recording the kit sent without notes has empty ones."""
    ciphertext = rec.read_listed("notes")
    if ciphertext is None:
        raw: Any = None
    else:
        try:
            raw = json.loads(age.decrypt_bytes(ciphertext, identities))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise NotesError(
                "this recording's notes file is damaged",
                hint="Sync from the kit again; vigkit office verify shows what differs.",
            ) from e
    doc = schema.upgrade(raw)
    schema.merge_button_marks(doc, _markers(rec, identities))
    return Notes(rec.id, doc)


def _markers(rec: ArchiveRecording, identities: Sequence[age.Identity]) -> list[float]:
    ciphertext = rec.read_listed("markers")
    if ciphertext is None:
        return []
    try:
        return [float(m) for m in json.loads(age.decrypt_bytes(ciphertext, identities))]
    except (ValueError, TypeError) as e:
        raise NotesError("the button markers of this recording are damaged") from e


def read_thumbnails(
    rec: ArchiveRecording, identities: Sequence[age.Identity]
) -> list[Thumbnail] | None:
    """The timeline pictures, or None when the kit had not made (or sent) them."""
    ciphertext = rec.read_listed("thumbs")
    if ciphertext is None:
        return None
    return unpack_thumbnails(age.decrypt_bytes(ciphertext, identities))
