"""The append-only audit log: each row carries the hash of the one before, so an edit,
a deletion or a reordering anywhere in the chain shows when it is verified.

Rows hold events and ids only (unlock, record start/stop, export, delete, sync, erase),
never personal data. The log lives in the index's database; `verify` walks the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from device.library.index import Index

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: str
    event: str
    recording: str
    detail: dict[str, Any]
    prev: str
    hash: str

    @classmethod
    def from_json(cls, r: dict[str, Any]) -> AuditRow:
        """A row as ``asdict`` wrote it to JSON; KeyError, TypeError or ValueError if not."""
        return cls(
            int(r["seq"]),
            str(r["at"]),
            str(r["event"]),
            str(r["recording"]),
            dict(r["detail"]),
            str(r["prev"]),
            str(r["hash"]),
        )


def row_hash(prev: str, at: str, event: str, recording: str, detail_json: str) -> str:
    payload = json.dumps([prev, at, event, recording, detail_json], separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


class AuditLog:
    def __init__(self, index: Index) -> None:
        self._index = index

    def append(self, event: str, recording: str = "", **detail: Any) -> AuditRow:
        at = datetime.now(UTC).isoformat(timespec="seconds")
        detail_json = json.dumps(detail, sort_keys=True, separators=(",", ":"))
        with self._index.transaction() as db:
            last = db.execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            prev = last[0] if last else GENESIS
            digest = row_hash(prev, at, event, recording, detail_json)
            cur = db.execute(
                "INSERT INTO audit (at, event, recording, detail, prev, hash)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (at, event, recording, detail_json, prev, digest),
            )
            seq = int(cur.lastrowid or 0)
        return AuditRow(seq, at, event, recording, detail, prev, digest)

    def rows(self, after: int = 0) -> list[AuditRow]:
        with self._index.transaction() as db:
            raw = db.execute(
                "SELECT seq, at, event, recording, detail, prev, hash FROM audit"
                " WHERE seq > ? ORDER BY seq",
                (after,),
            ).fetchall()
        return [AuditRow(s, a, e, r, json.loads(d), p, h) for s, a, e, r, d, p, h in raw]

    def verify(self) -> list[str]:
        """Every break in the chain, in words; an empty list means it is intact."""
        return verify_chain(self.rows())


def verify_chain(rows: list[AuditRow]) -> list[str]:
    problems: list[str] = []
    prev = GENESIS
    for row in rows:
        detail_json = json.dumps(row.detail, sort_keys=True, separators=(",", ":"))
        if row.prev != prev:
            problems.append(f"audit row {row.seq} does not follow the row before it")
        if row_hash(row.prev, row.at, row.event, row.recording, detail_json) != row.hash:
            problems.append(f"audit row {row.seq} was changed after it was written")
        prev = row.hash
    return problems
