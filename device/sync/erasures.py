"""``erasures.json``: what the office must erase, carried by sync beside the manifests.

One file per kit folder, rewritten whole on the kit (atomically, in the outbox) and sent
and verified like ``audit.json`` whenever it changes. It holds:

- every erase request the kit ever queued (erase now, withdrawn consent): kind, the
  case's opaque id, the recording ids, the cycle number and when it was asked. Each sync
  sends them all, not only the new ones, so a request stays at the office until the
  office has acted on it, whatever happens to earlier copies;
- each film's consent erase-by date, against the film's id and its case's opaque id;
- each case's erase-by date, against its opaque id: the office removes the case's own
  file (:mod:`device.sync.casefiles`) on that day too.

Opaque ids and dates only: never a case code, question or name (the same reasoning as
:mod:`device.sync.manifest`). The office's ``vigkit office retention`` reads it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from device.cases import Registry, all_requests, is_case_id
from device.errors import ArchiveError
from device.library import Index
from device.library.layout import is_recording_id
from device.sync.manifest import encode_document

FORMAT = "vigkit-erasures/1"
ERASURES_NAME = "erasures.json"


@dataclass(frozen=True)
class Request:
    seq: int
    kind: str  # film, cycle or case
    case: str  # opaque id ("" for an Unassigned film)
    recordings: tuple[str, ...]
    cycle: int | None
    requested_at: str


@dataclass(frozen=True)
class EraseBy:
    recording: str
    case: str
    date: str  # ISO date


@dataclass(frozen=True)
class CaseEraseBy:
    case: str
    date: str  # ISO date


@dataclass(frozen=True)
class Erasures:
    kit: str
    requests: tuple[Request, ...]
    erase_by: tuple[EraseBy, ...]
    cases: tuple[CaseEraseBy, ...] = ()

    def to_json(self, key: Ed25519PrivateKey | None = None) -> bytes:
        doc = {
            "format": FORMAT,
            "kit": self.kit,
            "requests": [asdict(r) for r in self.requests],
            "erase_by": [asdict(e) for e in self.erase_by],
            "cases": [asdict(c) for c in self.cases],
        }
        return encode_document(doc, key)

    @property
    def empty(self) -> bool:
        return not self.requests and not self.erase_by and not self.cases


def from_index(index: Index) -> tuple[Erasures, list[int]]:
    """The kit's erasures now, and the seqs of requests the office has not had yet."""
    registry = Registry(index)
    reqs = all_requests(registry)
    requests = tuple(
        Request(r.seq, r.kind, r.case_id, r.recordings, r.cycle, r.requested_at) for r in reqs
    )
    dates = tuple(
        EraseBy(row.id, row.case_id or "", row.erase_by)
        for row in index.all()
        if row.erase_by and row.case_id
    )
    cases = tuple(CaseEraseBy(row.id, row.erase_by) for row in registry.all() if row.erase_by)
    unsent = [r.seq for r in reqs if r.sent_at is None]
    return Erasures(index.kit_id(), requests, dates, cases), unsent


def parse_erasures(data: bytes, where: str) -> Erasures:
    """Checked like a manifest: every recording id must be one, so no path is built from
    anything else."""
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError(f"it is not a {FORMAT} file")
        requests = tuple(_request(r) for r in doc["requests"])
        dates = tuple(
            EraseBy(_rec(e["recording"]), _case(e["case"]), _day(e["date"]))
            for e in doc["erase_by"]
        )
        cases = tuple(
            CaseEraseBy(_case(c["case"], blank=False), _day(c["date"]))
            for c in doc.get("cases", [])
        )
        return Erasures(str(doc["kit"]), requests, dates, cases)
    except (KeyError, TypeError, ValueError) as e:
        raise ArchiveError(f"{where} is damaged ({e})") from e


def _request(r: dict[str, Any]) -> Request:
    cycle = r.get("cycle")
    return Request(
        int(r["seq"]),
        str(r["kind"]),
        _case(r["case"]),
        tuple(_rec(x) for x in r["recordings"]),
        int(cycle) if cycle is not None else None,
        str(r["requested_at"]),
    )


def _day(value: Any) -> str:
    return date.fromisoformat(str(value)).isoformat()


def _case(value: Any, *, blank: bool = True) -> str:
    """A case's opaque id, or "" (an Unassigned film) where ``blank`` allows it."""
    if (blank and value == "") or is_case_id(value):
        return str(value)
    raise ValueError(f"{value!r} is not a case id")


def _rec(value: Any) -> str:
    if not isinstance(value, str) or not is_recording_id(value):
        raise ValueError(f"{value!r} is not a recording id")
    return value
