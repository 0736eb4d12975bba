"""The films of one case in a synced archive, with their notes, and the case's consent.

Used by the annotation export and the supervision pack (``vigkit office annotations`` and
``supervision``). Where the kit syncs its cases (issue #14), each kit folder holds every
case's own record, ``cases/<opaque id>.age`` (decrypted here in memory with the
organisation key), and ``cases.json``, which says in which case and cycle each film was
filed; the case code and the cycle's helping question then come from the record. A film
that no ``cases.json`` lists (filmed before cases existed) belongs to the case its own
notes name, with their cycle and question.

Consent is always read from the case's record: it may have changed since a mark was
flagged (docs/notes.md, Supervision), so it is read again on every run. A film whose
kit folder holds no readable record of its case counts as having no consent for a
supervisor: when in doubt, nothing is shown.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from device import age
from device.cases import Case
from device.cases import schema as case_schema
from device.cases.store import CASES_DIR
from device.errors import ArchiveError, VigKitError
from device.office.recordings import ArchiveRecording, ArchiveRecordings, read_notes

CASES_LISTING = "cases.json"  # written by the kit's sync beside the manifests (issue #14)


@dataclass(frozen=True)
class CaseFilm:
    """One film of the case, with its notes as the kit last sent them."""

    rec: ArchiveRecording
    code: str
    cycle: int | None
    question: str
    notes: dict[str, Any]
    case: Case | None  # the case's record, if the archive has it


class CaseRecords:
    """The case records and filings of each kit folder, read once per run (in memory)."""

    def __init__(self, identities: Sequence[age.Identity]) -> None:
        self.identities = list(identities)
        self._cases: dict[Path, dict[str, Case]] = {}  # folder -> case id -> case
        self._filed: dict[Path, dict[str, tuple[str, int]]] = {}  # recording -> (case, cycle)

    def film(self, rec: ArchiveRecording, notes: dict[str, Any]) -> CaseFilm:
        """The film with the case and cycle it is filed in (or its notes name)."""
        cases = self.cases(rec.folder)
        case_id, n = self._filing(rec.folder).get(rec.id, ("", 0))
        case = cases.get(case_id)
        if case is not None:
            cycle = next((c for c in case.cycles if c.n == n), case.current_cycle)
            return CaseFilm(rec, _code(case.code), n, cycle.question, notes, case)
        own = notes.get("case") or {}
        code, number = _code(own.get("code")), own.get("cycle")
        by_code = next((c for c in cases.values() if _code(c.code) == code), None) if code else None
        return CaseFilm(
            rec, code, number if isinstance(number, int) else None,
            str(own.get("question") or ""), notes, by_code,
        )  # fmt: skip

    def cases(self, folder: Path) -> dict[str, Case]:
        if folder not in self._cases:
            found = {}
            for path in sorted((folder / CASES_DIR).glob("*.age")):
                case = self._read(path)
                if case is not None:
                    found[path.name.removesuffix(".age")] = case
            self._cases[folder] = found
        return self._cases[folder]

    def _read(self, path: Path) -> Case | None:
        """A case record, or None when it cannot be read (its consent is then unknown,
        and unknown consent shows nothing)."""
        try:
            raw = json.loads(age.decrypt_bytes(path.read_bytes(), self.identities))
            return case_schema.case_from_doc(case_schema.upgrade(raw))
        except (VigKitError, OSError, ValueError, KeyError, TypeError):
            return None

    def _filing(self, folder: Path) -> dict[str, tuple[str, int]]:
        if folder not in self._filed:
            self._filed[folder] = _read_listing(folder / CASES_LISTING)
        return self._filed[folder]


def supervisor_may_watch(film: CaseFilm) -> bool:
    """Whether the consent of the film's case, as its record says now, lets a VIG
    supervisor watch: given, not withdrawn, and its supervisor point yes."""
    consent = film.case.consent if film.case is not None else None
    return consent is not None and consent.valid and consent.supervisor


def case_films(archive: Path, records: CaseRecords, code: str) -> list[CaseFilm]:
    """Every film of case ``code`` in the archive, oldest first (ArchiveError if none)."""
    wanted = _code(code)
    films = []
    for rec in sorted(ArchiveRecordings(archive).all(), key=lambda r: (r.id, r.kit)):
        film = records.film(rec, read_notes(rec, records.identities).to_json())
        if wanted and film.code == wanted:
            films.append(film)
    if not films:
        raise ArchiveError(
            f"there is no case {wanted} in {archive}",
            hint="Check the case code as the kit shows it (e.g. F-0231), and that the kit "
            "has synced since the case's films were made.",
        )
    return films


def _read_listing(path: Path) -> dict[str, tuple[str, int]]:
    """Recording id -> (case id, cycle) from ``cases.json``; nothing if there is none. A
    damaged listing is an error: films would silently fall out of their case."""
    try:
        doc = json.loads(path.read_bytes())
        return {
            str(f["recording"]): (str(c["case"]), int(f["cycle"]))
            for c in doc["cases"]
            for f in c["films"]
        }
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ArchiveError(
            f"{path} cannot be read, so the films' cases are unknown",
            hint="Sync the kit again; vigkit office verify shows what differs.",
        ) from e


def _code(value: Any) -> str:
    return str(value or "").strip().upper()
