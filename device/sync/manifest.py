"""The per-recording manifest sent beside a recording's files, and the kit's audit file.

A manifest says what the office should hold for one recording: every ciphertext file's
name, size and SHA-256, the kit's id, the recording's state (so an interrupted film is
flagged), and the audit-log rows written since the last sync. ``audit.json`` in the kit's
folder holds the whole chain, so the office can check it from the first row.

Both are plain JSON, signed by the kit's Ed25519 key (device.library.signing), and plain
on purpose: they hold ids (a time and four random hex digits), sizes, hashes and audit
events, never a name, case code or note (those live only in the
encrypted notes file). Plain, anyone at the office can check an archive is complete and
untouched without holding the organisation's key, the same as ``sha256sum -c``.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from device.errors import ArchiveError
from device.library import AuditRow
from device.library.layout import is_recording_id
from device.library.signing import signed_json

# what a kit names its files; nothing else (a slash, a NUL, a control character) reaches
# a path at the office
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
FORMAT = "vigkit-manifest/1"
AUDIT_FORMAT = "vigkit-audit/1"
AUDIT_NAME = "audit.json"


def manifest_name(rec_id: str) -> str:
    return f"{rec_id}.manifest.json"


@dataclass(frozen=True)
class Entry:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    kit: str
    recording: str
    state: str  # complete, interrupted or recovered (index states)
    duration_s: float
    files: tuple[Entry, ...]
    audit: tuple[AuditRow, ...]
    written_at: str

    def body_key(self) -> str:
        """What makes a new manifest worth sending: the files and the state."""
        return json.dumps([self.state, [asdict(f) for f in self.files]], sort_keys=True)

    def to_json(self, key: Ed25519PrivateKey | None = None) -> bytes:
        """The manifest's JSON, signed with the kit's ``key`` (unsigned without one)."""
        doc = {
            "format": FORMAT,
            "kit": self.kit,
            "recording": self.recording,
            "state": self.state,
            "duration_s": self.duration_s,
            "files": [asdict(f) for f in self.files],
            "audit": [asdict(r) for r in self.audit],
            "written_at": self.written_at,
        }
        return encode_document(doc, key)


def audit_json(kit: str, rows: list[AuditRow], key: Ed25519PrivateKey | None = None) -> bytes:
    """The whole audit chain; its signature covers the chain's head (the last row's hash)."""
    doc = {"format": AUDIT_FORMAT, "kit": kit, "rows": [asdict(r) for r in rows]}
    return encode_document(doc, key)


def encode_document(doc: dict[str, Any], key: Ed25519PrivateKey | None) -> bytes:
    if key is not None:
        return signed_json(doc, key)
    return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()


def parse_manifest(data: bytes, where: str) -> Manifest:
    """A manifest, checked to name a recording id and only that recording's own files:
    the office's tools build paths from both, so a damaged or hand-made manifest must
    never point outside its kit folder."""
    doc = _load(data, where, FORMAT)
    try:
        recording = str(doc["recording"])
        if not is_recording_id(recording):
            raise ValueError(f"{recording!r} is not a recording id")
        files = tuple(Entry(str(f["name"]), int(f["size"]), str(f["sha256"])) for f in doc["files"])
        for entry in files:
            if not FILE_NAME.fullmatch(entry.name) or not entry.name.startswith(f"{recording}."):
                raise ValueError(f"{entry.name!r} is not one of the recording's files")
        return Manifest(
            kit=str(doc["kit"]),
            recording=recording,
            state=str(doc["state"]),
            duration_s=float(doc.get("duration_s", 0.0)),
            files=files,
            audit=tuple(AuditRow.from_json(r) for r in doc.get("audit", [])),
            written_at=str(doc.get("written_at", "")),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ArchiveError(f"{where} is not a complete manifest ({e})") from e


def parse_audit(data: bytes, where: str) -> tuple[str, list[AuditRow]]:
    doc = _load(data, where, AUDIT_FORMAT)
    try:
        return str(doc["kit"]), [AuditRow.from_json(r) for r in doc["rows"]]
    except (KeyError, TypeError, ValueError) as e:
        raise ArchiveError(f"{where} is not a complete audit file ({e})") from e


def _load(data: bytes, where: str, fmt: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise ArchiveError(f"{where} is damaged: it is not JSON") from e
    if not isinstance(doc, dict) or doc.get("format") != fmt:
        raise ArchiveError(f"{where} is not a {fmt} file")
    return doc
