"""The cases of a synced archive as the office sees them, read-only: the one reader of
the kits' case files at the office (the case view, export, annotations, supervision).

Each kit folder's ``cases.json`` (:mod:`device.sync.casefiles`) names its cases by
opaque id, with their films and cycles, and is signed by the kit (it reaches here only
through :func:`device.office.archive.open_archive`, checked against the office's
register of kits). Each case's own file, ``cases/<id>.age``, is encrypted to public keys
anyone could use, so it is trusted only when its size and SHA-256 are the ones the kit
signed in ``cases.json``; then it is decrypted in memory with the organisation's key, so
a case code or helping question is only ever seen with that key. A case file no signed
listing names is never read. The journey (cycle after cycle: question and its history,
films, clips, stills, reflections) is built by :mod:`device.cases.journey`, the same
code as the kit's case view. Films synced before cases existed carry their case only in
their own notes; they join the case of that code in the same kit folder (or, for export,
a case known only from those notes). A case ``vigkit office retention`` removed is gone.

Consent is always read from the case's record: it may have changed since a mark was
flagged (docs/notes.md, Supervision), so it is read again on every run. A film whose
kit folder holds no trusted record of its case counts as having no consent for a
supervisor: when in doubt, nothing is shown.
"""

from __future__ import annotations

import hashlib
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
from device.office.archive import KitFolder
from device.office.recordings import ArchiveRecording, ArchiveRecordings, NotInArchive, read_notes
from device.sync.casefiles import CASES_DIR, CASES_NAME, CaseFile


@dataclass(frozen=True)
class ArchiveCase:
    """One case of one kit folder: its record (``entry`` None for a case known only from
    its films' notes) and the case itself, decrypted."""

    kit: str  # the kit folder's name in URLs
    folder: Path
    entry: CaseFile | None
    case: Case


def case_path(folder: Path, case_id: str) -> Path:
    if not is_case_id(case_id):  # never a path from anything but an id
        raise NotInArchive("there is no such case in this archive")
    return folder / CASES_DIR / f"{case_id}.age"


@dataclass(frozen=True)
class CaseFilm:
    """One film of a case, with its notes as the kit last sent them (the annotation
    export and the supervision pack)."""

    rec: ArchiveRecording
    code: str
    cycle: int | None
    question: str
    notes: dict[str, Any]
    case: Case | None  # the case's record, if the archive has a trusted one


def read_case(folder: Path, entry: CaseFile, identities: Sequence[age.Identity]) -> Case:
    """The case's file decrypted in memory, as the kit wrote it: only if it is the file
    the kit listed (``entry``, from its signed ``cases.json``)."""
    try:
        ciphertext = case_path(folder, entry.case).read_bytes()
    except FileNotFoundError:
        raise NotInArchive(
            "this case's file is not in the archive (yet)",
            hint="The kit may still be syncing it: sync the kit again.",
        ) from None
    if len(ciphertext) != entry.size or hashlib.sha256(ciphertext).hexdigest() != entry.sha256:
        raise ArchiveError(
            f"the case file {CASES_DIR}/{entry.name} is not the one the kit signed in its "
            "cases.json, so it is not trusted",
            hint="Sync from the kit again; vigkit office verify shows what differs.",
        )
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
        """Every case with a record, by kit folder; and a sentence per case (or list of
        cases) that cannot be read or trusted (the rest still show)."""
        found, problems = [], []
        for kit, folder in self.recordings.kits().items():
            problems += [f"Kit {kit}: {line}." for line in folder.unreadable if CASES_NAME in line]
            for entry in _kept(folder):
                try:
                    case = read_case(folder.path, entry, self.identities)
                except VigKitError as e:
                    problems.append(f"Kit {kit}: a case cannot be read: {e.message}.")
                    continue
                found.append(ArchiveCase(kit, folder.path, entry, case))
        return sorted(found, key=lambda c: (c.case.code, c.kit)), problems

    def get(self, kit: str, case_id: str) -> ArchiveCase:
        folder = self.recordings.kits().get(kit)
        entry = next((e for e in _kept(folder) if e.case == case_id), None)
        if folder is None or entry is None:
            raise NotInArchive("there is no such case in this archive")
        return ArchiveCase(kit, folder.path, entry, read_case(folder.path, entry, self.identities))

    def by_code(self, code: str) -> list[ArchiveCase]:
        """The cases of this code, one per kit folder that has it: from case records, or
        made from films' notes where a folder has only those (films before cases)."""
        wanted = code.strip().upper()
        found = [c for c in self.all()[0] if c.case.code == wanted]
        have = {c.kit for c in found}
        folders = self.recordings.kits()
        for kit, films in self._notes_only().items():
            if kit not in have and any(str(d["case"].get("code")) == wanted for _, d in films):
                found.append(
                    ArchiveCase(kit, folders[kit].path, None, _case_from_notes(wanted, films))
                )
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

    def case_films(self, code: str) -> list[CaseFilm]:
        """Every film of case ``code`` in the archive, oldest first, with its notes and
        its case's record (ArchiveError if none): the films the kits filed in a case of
        that code, and films from before cases whose own notes name it."""
        wanted = _code(code)
        cases = self.all()[0]
        filed = {
            (ac.kit, f.recording): (ac, f.cycle)
            for ac in cases
            for f in (ac.entry.films if ac.entry else ())
        }
        films = []
        for rec in sorted(self.recordings.all(), key=lambda r: (r.id, r.kit)):
            notes = read_notes(rec, self.identities).to_json()
            kit_cases = [ac.case for ac in cases if ac.kit == rec.kit]
            film = _case_film(rec, notes, filed.get((rec.kit, rec.id)), kit_cases)
            if wanted and film.code == wanted:
                films.append(film)
        if not films:
            raise ArchiveError(
                f"there is no case {wanted} in {self.recordings.root}",
                hint="Check the case code as the kit shows it (e.g. F-0231), and that the kit "
                "has synced since the case's films were made.",
            )
        return films

    def _notes_only(self) -> dict[str, list[tuple[ArchiveRecording, dict[str, Any]]]]:
        """Per kit folder, the films no case lists whose own notes name a case code."""
        listed = {
            kit: {f.recording for c in _kept(folder) for f in c.films}
            for kit, folder in self.recordings.kits().items()
        }
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


def supervisor_may_watch(film: CaseFilm) -> bool:
    """Whether the consent of the film's case, as its record says now, lets a VIG
    supervisor watch: given, not withdrawn, and its supervisor point yes."""
    consent = film.case.consent if film.case is not None else None
    return consent is not None and consent.valid and consent.supervisor


def _case_film(
    rec: ArchiveRecording,
    notes: dict[str, Any],
    filed: tuple[ArchiveCase, int] | None,
    kit_cases: list[Case],
) -> CaseFilm:
    """The film with the case and cycle its kit filed it in, or else the ones its own
    notes name (a film from before cases; its case's record found by the code)."""
    if filed is not None:
        ac, n = filed
        cycle = next((c for c in ac.case.cycles if c.n == n), ac.case.current_cycle)
        return CaseFilm(rec, _code(ac.case.code), n, cycle.question, notes, ac.case)
    own = notes.get("case") or {}
    code, number = _code(own.get("code")), own.get("cycle")
    by_code = next((c for c in kit_cases if _code(c.code) == code), None) if code else None
    return CaseFilm(
        rec, code, number if isinstance(number, int) else None,
        str(own.get("question") or ""), notes, by_code,
    )  # fmt: skip


def _code(value: Any) -> str:
    return str(value or "").strip().upper()


def _film(rec: ArchiveRecording, doc: dict[str, Any] | None) -> JourneyFilm:
    return film_from_notes(rec.id, rec.duration_s, doc)


def _kept(folder: KitFolder | None) -> list[CaseFile]:
    """The cases the kit's signed ``cases.json`` lists but those office retention removed."""
    if folder is None or folder.cases is None:
        return []
    try:
        gone = office_audit.erased(folder.path)
    except ArchiveError:
        gone = {}
    return [c for c in folder.cases.cases if c.case not in gone]


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
