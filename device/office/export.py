"""``vigkit office export``: the marked clips and stills as plain MP4/JPEG, for the review.

At the office, plain files are the point: the supervisor plays the clips and prints the
contact sheet. Each recording's notes (decrypted in memory with the organisation key) say
which clips and stills there are, with their names, principles and captions; an export
file with no entry in the notes still comes out, under its file name. Notes, clips and
stills are read only as the kit's signed manifest lists them (a file changed since, or
put in the folder by anyone else, is refused or left out). Output is written
atomically (a temp file, then a rename) and readable by its owner only (0600), so a
failure leaves no half-written clip.

With ``--case CODE`` the export is the case's journey (:func:`plan_case`): every cycle's
films from the case record (``device.office.cases``), each with its cycle's helping
question and the question's earlier wordings, its clips and stills and the parent's
reflections; films synced before cases existed are found by the code in their notes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device import age
from device.cases import Case
from device.errors import AgeError, ArchiveError, NotesError, OutputNotEmpty
from device.library import atomic_writer
from device.library.notes_schema import upgrade
from device.office.archive import KitFolder, read_listed
from device.office.cases import ArchiveCases
from device.office.recordings import EXPORT_KIND

EXPORT_FILE = re.compile(r"(?P<id>[^.]+)\.(?P<kind>clip|still)-(?P<n>\d+)\.(?P<ext>mp4|jpg)\.age")


@dataclass(frozen=True)
class Item:
    kind: str  # clip or still
    source: Path  # the .age file
    out_name: str
    title: str  # clip name or still caption
    principles: tuple[str, ...] = ()
    at: str = ""  # "0:12–0:27" for a clip, "0:12" for a still


@dataclass
class Recording:
    kit: str
    id: str
    case: str
    cycle: int | None
    question: str
    folder: str
    items: list[Item] = field(default_factory=list)
    marks: list[dict[str, Any]] = field(default_factory=list)
    earlier_questions: list[tuple[str, str]] = field(default_factory=list)  # (on, text)
    reflections: str = ""


def plan(
    kits: Sequence[KitFolder],
    identities: Sequence[age.Identity],
    filing: Mapping[tuple[str, str], tuple[Case, int]] | None = None,
) -> list[Recording]:
    """What will be exported, recording by recording, oldest first. ``filing``: the case
    and cycle each film was filed in (``ArchiveCases.filing``); a film from before cases
    is named by its own notes."""
    found = []
    for kit in kits:
        for rec_id in sorted(kit.manifests):
            notes = _notes(kit, rec_id, identities)
            filed = (filing or {}).get((kit.name, rec_id))
            if filed is not None:
                case, n = filed
                cycle = next((c for c in case.cycles if c.n == n), case.current_cycle)
                code, question = case.code, cycle.question
            else:
                code, n = str(notes["case"].get("code") or ""), notes["case"].get("cycle")
                question = str(notes["case"].get("question") or "")
            rec = Recording(
                kit.name, rec_id, code, n, question, _safe(f"{code or 'no-case'}_{rec_id}")
            )
            rec.items = _items(kit, rec_id, notes)
            rec.marks = list(notes.get("marks") or [])
            if rec.items:
                found.append(rec)
    return found


def plan_case(cases: ArchiveCases, code: str) -> list[Recording]:
    """The journey of case ``code``: every film of every cycle, oldest first, each with
    what it has (a film with reflections but no clip still has its section). Only what
    an enrolled kit signed (``cases``' archive was opened with the register of kits)."""
    identities = cases.identities
    found = cases.by_code(code)
    if not found:
        raise ArchiveError(
            f"there is no case {code.strip().upper()} in {cases.recordings.root}",
            hint="Check the case code; vigkit office serve lists the archive's cases.",
        )
    planned = []
    folders = cases.recordings.kits()  # with what each kit signed
    for ac in found:
        kit = folders[ac.kit]
        for cy in cases.journey(ac):
            for film in cy.films:
                notes = _notes(kit, film.id, identities)
                rec = Recording(
                    ac.kit, film.id, ac.case.code, cy.n, cy.question,
                    _safe(f"{ac.case.code}_cycle-{cy.n}_{film.id}"),
                    items=_items(kit, film.id, notes), marks=list(notes.get("marks") or []),
                    earlier_questions=[(q.on, q.text) for q in cy.earlier_questions],
                    reflections=film.reflections,
                )  # fmt: skip
                planned.append(rec)
    return planned


def export(
    recordings: Sequence[Recording],
    identities: Sequence[age.Identity],
    out: Path,
    *,
    force: bool,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[Path]:
    """Decrypt every planned item into ``out``; returns the files written."""
    check_output(out, force)
    tell = progress or (lambda done, total, name: None)
    total = sum(i.source.stat().st_size for r in recordings for i in r.items)
    done, written = 0, []
    for rec in recordings:
        folder = out / rec.folder
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for item in rec.items:
            tell(done, total, item.out_name)
            target = folder / item.out_name
            _decrypt(item.source, target, identities)
            written.append(target)
            done += item.source.stat().st_size
    tell(total, total, "")
    return written


def check_output(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ArchiveError(f"{out} is a file, not a folder", hint="Choose a folder for -o.")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputNotEmpty(f"{out} already has files in it; nothing was written")
    out.mkdir(parents=True, exist_ok=True)


def _decrypt(source: Path, target: Path, identities: Sequence[age.Identity]) -> None:
    try:
        with source.open("rb") as src, atomic_writer(target, 0o600) as dst:
            age.decrypt(src, identities, dst)
    except AgeError as e:
        raise type(e)(f"{source.name}: {e.message}") from e
    except OSError as e:
        raise ArchiveError(f"cannot write {target}: {e.strerror}") from e


def _notes(kit: KitFolder, rec_id: str, identities: Sequence[age.Identity]) -> dict[str, Any]:
    """The recording's notes, only as the kit's signed manifest lists them."""
    manifest = kit.manifests.get(rec_id)
    if manifest is None:  # left out (not signed by an enrolled kit): nothing of it is read
        raise ArchiveError(f"{rec_id} is not in the kit's signed manifests")
    ciphertext = read_listed(kit.path, manifest, f"{rec_id}.notes.age")
    if ciphertext is None:
        return upgrade(None)
    try:
        return upgrade(json.loads(age.decrypt_bytes(ciphertext, identities)))
    except ValueError as e:  # JSON, or a NotesError (also a ValueError) from upgrade
        why = e.message if isinstance(e, NotesError) else "it is not JSON"
        raise ArchiveError(f"the notes of {rec_id} cannot be read: {why}") from e


def _named_file(kit: KitFolder, rec_id: str, kind: object) -> Path | None:
    """The export file the notes name (``clip-1.mp4``), if it is one and is there. The
    name is checked whole: notes are data, and ``../`` in one must not reach outside."""
    if not isinstance(kind, str) or not EXPORT_KIND.fullmatch(kind):
        return None
    source = kit.file(f"{rec_id}.{kind}.age")
    return source if source.is_file() and source.name in _listed(kit, rec_id) else None


def _listed(kit: KitFolder, rec_id: str) -> set[str]:
    """The recording's files its kit's signed manifest lists: nothing else is exported
    (a clip put in the folder by anyone else is not the kit's)."""
    manifest = kit.manifests.get(rec_id)
    return {f.name for f in manifest.files} if manifest else set()


def _items(kit: KitFolder, rec_id: str, notes: dict[str, Any]) -> list[Item]:
    items: list[Item] = []
    named: set[str] = set()
    clips = sorted(notes.get("clips") or [], key=lambda c: (c.get("order") or 0, c.get("id")))
    for n, clip in enumerate(clips, start=1):
        source = _named_file(kit, rec_id, clip.get("file"))
        if source is None:
            continue
        name = str(clip.get("name") or "")
        out_name = f"clip-{n:02d}" + (f"-{_safe(name)}" if name else "") + ".mp4"
        at = f"{_clock(clip.get('in'))}–{_clock(clip.get('out'))}"
        principles = tuple(str(p) for p in clip.get("principles") or ())
        items.append(Item("clip", source, out_name, name, principles, at))
        named.add(source.name)
    stills = sorted(notes.get("stills") or [], key=lambda s: (s.get("t") or 0, s.get("id")))
    for n, still in enumerate(stills, start=1):
        source = _named_file(kit, rec_id, still.get("file"))
        if source is None:
            continue
        caption = str(still.get("caption") or "")
        items.append(
            Item("still", source, f"still-{n:02d}.jpg", caption, (), _clock(still.get("t")))
        )
        named.add(source.name)
    for path in sorted(kit.path.glob(f"{rec_id}.*.age")):  # exports the notes do not name
        m = EXPORT_FILE.fullmatch(path.name)
        if m and path.name not in named and path.name in _listed(kit, rec_id):
            out_name = f"{m['kind']}-file-{int(m['n']):02d}.{m['ext']}"
            items.append(
                Item(m["kind"], path, out_name, f"{m['kind']} {m['n']} (not in the notes)")
            )
    return items


def _safe(text: str, limit: int = 60) -> str:
    """A file-name-safe version of a typed name."""
    cleaned = re.sub(r"[^\w\-]+", "-", text.strip(), flags=re.UNICODE).strip("-_")
    return cleaned[:limit].rstrip("-_") or "untitled"


def _clock(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "?"
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"
