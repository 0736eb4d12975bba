"""The cases of a synced archive as the office sees them, read-only.

Each kit folder's ``cases.json`` (:mod:`device.sync.casefiles`) names its cases by
opaque id, with their films and cycles; each case's own file, ``cases/<id>.age``, is
decrypted in memory with the organisation's key, so a case code or helping question is
only ever seen with that key. The journey (cycle after cycle: question and its history,
films, clips, stills, reflections) is built by :mod:`device.cases.journey`, the same
code as the kit's case view. Films synced before cases existed carry their case only in
their own notes; they join the case of that code in the same kit folder (or, for export,
a case known only from those notes). A case ``vigkit office retention`` removed is gone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from device import age
from device.cases import Case, Cycle, Question, is_case_id
from device.cases import schema as case_schema
from device.cases.journey import JourneyCycle, JourneyFilm, cycles, film_from_notes
from device.errors import ArchiveError, CaseError, VigKitError
from device.office import office_audit
from device.office.recordings import ArchiveRecording, ArchiveRecordings, NotInArchive, read_notes
from device.sync.casefiles import CASES_DIR, CASES_NAME, CaseFile, CaseFiles, parse_cases


@dataclass(frozen=True)
class ArchiveCase:
    """One case of one kit folder: its record (``entry`` None for a case known only from
    its films' notes) and the case itself, decrypted."""

    kit: str  # the kit folder's name in URLs
    folder: Path
    entry: CaseFile | None
    case: Case


def read_case_files(folder: Path) -> CaseFiles | None:
    """The kit folder's ``cases.json`` (None: the kit sent no case yet)."""
    try:
        data = (folder / CASES_NAME).read_bytes()
    except FileNotFoundError:
        return None
    return parse_cases(data, f"{folder.name}/{CASES_NAME}")


def case_path(folder: Path, case_id: str) -> Path:
    if not is_case_id(case_id):  # never a path from anything but an id
        raise NotInArchive("there is no such case in this archive")
    return folder / CASES_DIR / f"{case_id}.age"


def read_case(folder: Path, case_id: str, identities: Sequence[age.Identity]) -> Case:
    """The case's file decrypted in memory, as the kit wrote it."""
    try:
        ciphertext = case_path(folder, case_id).read_bytes()
    except FileNotFoundError:
        raise NotInArchive(
            "this case's file is not in the archive (yet)",
            hint="The kit may still be syncing it: sync the kit again.",
        ) from None
    try:
        return case_schema.case_from_doc(
            case_schema.upgrade(json.loads(age.decrypt_bytes(ciphertext, identities)))
        )
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise CaseError(
            "this case's file is damaged",
            hint="Sync from the kit again; vigkit office verify shows what differs.",
        ) from e


class ArchiveCases:
    """The cases of an archive, read again on every call (a sync may have arrived)."""

    def __init__(self, recordings: ArchiveRecordings, identities: Sequence[age.Identity]) -> None:
        self.recordings = recordings
        self.identities = list(identities)

    def all(self) -> tuple[list[ArchiveCase], list[str]]:
        """Every case with a record, by kit folder; and a sentence per case that cannot
        be read (the rest still show)."""
        found, problems = [], []
        for kit, folder in self.recordings.folders().items():
            try:
                listing = read_case_files(folder)
            except ArchiveError as e:
                problems.append(f"Kit {kit}: {e.message}.")
                continue
            for entry in _kept(folder, listing):
                try:
                    case = read_case(folder, entry.case, self.identities)
                except VigKitError as e:
                    problems.append(f"Kit {kit}: a case cannot be read: {e.message}.")
                    continue
                found.append(ArchiveCase(kit, folder, entry, case))
        return sorted(found, key=lambda c: (c.case.code, c.kit)), problems

    def get(self, kit: str, case_id: str) -> ArchiveCase:
        folder = self.recordings.folders().get(kit)
        listing = read_case_files(folder) if folder is not None else None
        entry = next((e for e in _kept(folder, listing) if e.case == case_id), None)
        if folder is None or entry is None:
            raise NotInArchive("there is no such case in this archive")
        return ArchiveCase(kit, folder, entry, read_case(folder, case_id, self.identities))

    def by_code(self, code: str) -> list[ArchiveCase]:
        """The cases of this code, one per kit folder that has it: from case records, or
        made from films' notes where a folder has only those (films before cases)."""
        wanted = code.strip().upper()
        found = [c for c in self.all()[0] if c.case.code == wanted]
        have = {c.kit for c in found}
        for kit, films in self._notes_only().items():
            if kit not in have and any(str(d["case"].get("code")) == wanted for _, d in films):
                folder = self.recordings.folders()[kit]
                found.append(ArchiveCase(kit, folder, None, _case_from_notes(wanted, films)))
        return found

    def filing(self) -> dict[tuple[str, str], tuple[Case, int]]:
        """(kit folder, recording id) → the case and cycle the kit filed the film in."""
        return {
            (ac.kit, f.recording): (ac.case, f.cycle)
            for ac in self.all()[0]
            for f in (ac.entry.films if ac.entry else ())
        }

    def journey(self, ac: ArchiveCase) -> list[JourneyCycle]:
        """Every cycle of the case, oldest first, with the films the archive holds."""
        recs = {r.id: r for r in self.recordings.all() if r.kit == ac.kit}
        films: dict[int, list[JourneyFilm]] = {}
        for f in ac.entry.films if ac.entry else ():
            if f.recording in recs:
                films.setdefault(f.cycle, []).append(self.film(recs[f.recording]))
        for rec, doc in self._notes_only().get(ac.kit, []):
            if str(doc["case"].get("code") or "").upper() == ac.case.code:
                cycle = int(doc["case"].get("cycle") or 1)
                films.setdefault(cycle, []).append(_film(rec, doc))
        for listed in films.values():
            listed.sort(key=lambda f: f.id)
        return cycles(ac.case, films)

    def film(self, rec: ArchiveRecording) -> JourneyFilm:
        try:
            doc: dict[str, Any] | None = read_notes(rec, self.identities).to_json()
        except VigKitError:
            doc = None
        return _film(rec, doc)

    def _notes_only(self) -> dict[str, list[tuple[ArchiveRecording, dict[str, Any]]]]:
        """Per kit folder, the films no case lists whose own notes name a case code."""
        listed: dict[str, set[str]] = {}
        for kit, folder in self.recordings.folders().items():
            try:
                listing = read_case_files(folder)
            except ArchiveError:
                listing = None
            cases = listing.cases if listing else ()
            listed[kit] = {f.recording for c in cases for f in c.films}
        out: dict[str, list[tuple[ArchiveRecording, dict[str, Any]]]] = {}
        for rec in sorted(self.recordings.all(), key=lambda r: r.id):
            if rec.id in listed.get(rec.kit, set()):
                continue
            try:
                doc = read_notes(rec, self.identities).to_json()
            except VigKitError:
                continue
            if doc["case"].get("code"):
                out.setdefault(rec.kit, []).append((rec, doc))
        return out


def _film(rec: ArchiveRecording, doc: dict[str, Any] | None) -> JourneyFilm:
    return film_from_notes(rec.id, rec.duration_s, doc)


def _kept(folder: Path | None, listing: CaseFiles | None) -> list[CaseFile]:
    """The listed cases but those office retention removed."""
    if folder is None or listing is None:
        return []
    try:
        gone = office_audit.erased(folder)
    except ArchiveError:
        gone = {}
    return [c for c in listing.cases if c.case not in gone]


def _case_from_notes(code: str, films: list[tuple[ArchiveRecording, dict[str, Any]]]) -> Case:
    """A case known only from its films' notes (synced before cases existed): each cycle
    with the question its newest film wrote."""
    questions: dict[int, str] = {}
    for _, doc in films:
        if str(doc["case"].get("code") or "").upper() == code:
            questions[int(doc["case"].get("cycle") or 1)] = str(doc["case"].get("question") or "")
    made = tuple(
        Cycle(n, "", (Question(q, ""),) if q else ()) for n, q in sorted(questions.items())
    )
    return Case("", code, 0, "", None, None, made, "")
