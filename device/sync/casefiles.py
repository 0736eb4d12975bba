"""The cases sync carries: each case's encrypted file as it is, and ``cases.json``.

A case (``cases/<opaque id>.age``) is already encrypted to the office key and the kit
key, so sync sends it unchanged into the kit folder's ``cases/`` and verifies it like a
film's files; a case changes over its cycles, so a changed file is sent again. A case
the kit erased (an erase request of kind "case": erased, or consent withdrawn) is not
sent any more; ``vigkit office retention`` removes it at the office.

``cases.json`` beside the manifests says, per case: the opaque id, the file's size and
SHA-256, and which recordings belong to it in which cycle. Plain, for the same reason
as the manifests (:mod:`device.sync.manifest`): ids, numbers and hashes that the kit's
own index already holds in the clear, never a case code, question or name (those live
only inside the encrypted case file). The office needs the films' cycles in the clear
because the kit counts them while locked, without a key to write them into the case.
Signed by the kit's key like the manifests: a case file is encrypted to public keys
anyone can use, so only its SHA-256 in this signed listing tells the office that the
kit wrote it (consent, dates and reflections are read from it).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from device.cases import CASES_DIR as CASES_DIR  # the office reads it from here too
from device.cases import Registry, all_requests, is_case_id
from device.errors import ArchiveError
from device.library import Index, State
from device.library.layout import is_recording_id
from device.sync.manifest import encode_document

FORMAT = "vigkit-cases/1"
CASES_NAME = "cases.json"
NOT_AT_OFFICE = (State.RECORDING, State.DELETED)  # still being filmed, or erased on request


@dataclass(frozen=True)
class CaseFilm:
    recording: str
    cycle: int


@dataclass(frozen=True)
class CaseFile:
    case: str  # the opaque id; the file is cases/<case>.age
    size: int
    sha256: str
    films: tuple[CaseFilm, ...]

    @property
    def name(self) -> str:
        return f"{self.case}.age"


@dataclass(frozen=True)
class CaseFiles:
    kit: str
    cases: tuple[CaseFile, ...]

    def to_json(self, key: Ed25519PrivateKey | None = None) -> bytes:
        """The listing's JSON, signed with the kit's ``key`` (unsigned without one)."""
        doc = {"format": FORMAT, "kit": self.kit, "cases": [asdict(c) for c in self.cases]}
        return encode_document(doc, key)

    def get(self, case_id: str) -> CaseFile | None:
        return next((c for c in self.cases if c.case == case_id), None)


def to_send(index: Index) -> list[str]:
    """The cases whose files go to the office: every case on the kit but those erased."""
    registry = Registry(index)
    gone = {r.case_id for r in all_requests(registry) if r.kind == "case"}
    return [row.id for row in registry.all() if row.id not in gone]


def films_of(index: Index) -> dict[str, tuple[CaseFilm, ...]]:
    """Case id → its films the office has or will have, oldest first (an Unassigned
    film is never sent; a film retention removed from the kit is still at the office)."""
    films: dict[str, list[CaseFilm]] = {}
    for row in reversed(index.all()):
        if row.case_id and not row.held and row.state not in NOT_AT_OFFICE:
            films.setdefault(row.case_id, []).append(CaseFilm(row.id, int(row.cycle or 1)))
    return {case: tuple(found) for case, found in films.items()}


def listing(
    index: Index, verified: list[tuple[str, int, str]], key: Ed25519PrivateKey | None = None
) -> str:
    """``cases.json`` for the case files the office has (id, size, SHA-256), with their
    films, signed with the kit's ``key``."""
    films = films_of(index)
    found = tuple(CaseFile(c, size, sha, films.get(c, ())) for c, size, sha in sorted(verified))
    return CaseFiles(index.kit_id(), found).to_json(key).decode()


def parse_cases(data: bytes, where: str) -> CaseFiles:
    """Checked like a manifest: every id must be one, so no path is built from anything
    else."""
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError(f"it is not a {FORMAT} file")
        return CaseFiles(str(doc["kit"]), tuple(_case(c) for c in doc["cases"]))
    except (KeyError, TypeError, ValueError) as e:
        raise ArchiveError(f"{where} is damaged ({e})") from e


def _case(c: dict[str, Any]) -> CaseFile:
    if not is_case_id(c["case"]):
        raise ValueError(f"{c['case']!r} is not a case id")
    films = []
    for f in c["films"]:
        if not isinstance(f["recording"], str) or not is_recording_id(f["recording"]):
            raise ValueError(f"{f['recording']!r} is not a recording id")
        films.append(CaseFilm(f["recording"], int(f["cycle"])))
    return CaseFile(c["case"], int(c["size"]), str(c["sha256"]), tuple(films))
