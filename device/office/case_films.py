"""The films of one case in a synced archive, with their notes, and the case's consent.

Used by the annotation export and the supervision pack (``vigkit office annotations`` and
``supervision``). A film belongs to case CODE when its notes (decrypted in memory, button
marks merged, any schema version upgraded) name that code; cycle and helping question
come from the same notes.

Consent is read from the case's own record, ``cases/<opaque id>.age`` in the film's kit
folder, decrypted in memory with the organisation key: the consent may have changed
since a mark was flagged (docs/notes.md, Supervision), so it is read again every time.
A film whose kit folder holds no readable record of its case counts as having no consent
for a supervisor: when in doubt, nothing is shown.
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


@dataclass(frozen=True)
class CaseFilm:
    """One film of the case, with its notes as the kit last sent them."""

    rec: ArchiveRecording
    code: str
    cycle: int | None
    question: str
    notes: dict[str, Any]


def case_films(archive: Path, identities: Sequence[age.Identity], code: str) -> list[CaseFilm]:
    """Every film of case ``code`` in the archive, oldest first (ArchiveError if none)."""
    wanted = code.strip().upper()
    films = []
    for rec in sorted(ArchiveRecordings(archive).all(), key=lambda r: (r.id, r.kit)):
        doc = read_notes(rec, identities).to_json()
        case = doc.get("case") or {}
        if str(case.get("code") or "").strip().upper() != wanted:
            continue
        cycle = case.get("cycle")
        films.append(
            CaseFilm(
                rec, wanted, cycle if isinstance(cycle, int) else None,
                str(case.get("question") or ""), doc,
            )
        )  # fmt: skip
    if not films:
        raise ArchiveError(
            f"there is no case {wanted} in {archive}",
            hint="Check the case code as the kit shows it (e.g. F-0231), and that the kit "
            "has synced since the case's films were made.",
        )
    return films


class Consents:
    """The case records of each kit folder, decrypted once per run (in memory only)."""

    def __init__(self, identities: Sequence[age.Identity]) -> None:
        self.identities = list(identities)
        self._by_folder: dict[Path, dict[str, Case]] = {}

    def supervisor_may_watch(self, film: CaseFilm) -> bool:
        """Whether the consent of the film's case, as its record says now, lets a VIG
        supervisor watch: given, not withdrawn, and its supervisor point yes."""
        case = self._cases(film.rec.folder).get(film.code)
        consent = case.consent if case is not None else None
        return consent is not None and consent.valid and consent.supervisor

    def _cases(self, folder: Path) -> dict[str, Case]:
        if folder not in self._by_folder:
            found: dict[str, Case] = {}
            for path in sorted((folder / CASES_DIR).glob("*.age")):
                case = self._read(path)
                if case is not None:
                    found[case.code.strip().upper()] = case
            self._by_folder[folder] = found
        return self._by_folder[folder]

    def _read(self, path: Path) -> Case | None:
        """A case record, or None when it cannot be read (then its consent is unknown,
        and unknown consent shows nothing)."""
        try:
            raw = json.loads(age.decrypt_bytes(path.read_bytes(), self.identities))
            return case_schema.case_from_doc(case_schema.upgrade(raw))
        except (VigKitError, OSError, ValueError, KeyError, TypeError):
            return None
