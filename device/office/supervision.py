"""``vigkit office supervision``: the supervision pack of one case.

On the kit a practitioner flags clips and marks "for supervision" (docs/notes.md). The
pack is what the VIG supervisor watches with them: each flagged clip decrypted (0600, in
a folder only its owner can open) and ``supervision.html``, a sheet with each clip's
principles and times, the note of the mark it was made from, every flagged mark with its
note, and each cycle's helping question.

Consent is checked again here, from the case's record (``device.office.cases``), the
one the kit signed in its ``cases.json`` (a forged record gives no consent):
a film whose case's consent no longer includes a supervisor is left out whole, and when
no film is left the pack is refused with a sentence and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from device import age
from device.errors import ArchiveError, ConsentMissing
from device.library import atomic_writer
from device.office.cases import ArchiveCases, CaseFilm, supervisor_may_watch
from device.office.export import _clock, _decrypt, _safe, check_output
from device.office.recordings import NotInArchive
from device.office.supervision_sheet import FlaggedFilm, sheet_html


@dataclass(frozen=True)
class Pack:
    films: list[FlaggedFilm]
    clips_written: int
    left_out: list[str]  # films whose case's consent does not include a supervisor


def supervision_pack(cases: ArchiveCases, code: str, out: Path, *, force: bool) -> Pack:
    """Write the pack of case ``code`` into ``out``; refuse without the consent."""
    check_output(out, force)
    films = cases.case_films(code)
    allowed = [f for f in films if supervisor_may_watch(f)]
    if not allowed:
        raise ConsentMissing(
            f"The parent's consent for case {films[0].code} does not include a supervisor "
            "watching, so no supervision pack was made",
            hint="Consent is checked again at every export. If it was changed on the kit, "
            "sync the kit and try again.",
        )
    flagged = [f for f in (_flagged(film) for film in allowed) if f.clips or f.marks]
    if not flagged:
        raise ArchiveError(
            f"nothing in case {films[0].code} is flagged for supervision",
            hint="Flag clips or marks 'for supervision' on the kit's page, then sync the kit.",
        )
    written = sum(_write_clips(f, cases.identities, out) for f in flagged)
    with atomic_writer(out / "supervision.html", 0o600) as sheet:
        sheet.write(sheet_html(films[0].code, flagged).encode())
    left_out = [f.rec.id for f in films if f not in allowed]
    return Pack(flagged, written, left_out)


def _flagged(film: CaseFilm) -> FlaggedFilm:
    folder = _safe(f"{film.code}_cycle-{film.cycle or 0}_{film.rec.id}")
    found = FlaggedFilm(film, folder)
    marks = {m.get("id"): m for m in film.notes.get("marks") or []}
    clips = sorted(film.notes.get("clips") or [], key=lambda c: (c.get("order") or 0, c["id"]))
    for clip in clips:
        if clip.get("supervision"):
            mark = marks.get(clip.get("mark"))
            note = str(mark.get("note") or "") if mark else ""
            said = _parent_said(film, str(clip["id"]))
            found.clips.append({**clip, "at": _span(clip), "mark_note": note, "parent": said})
    for mark in sorted(marks.values(), key=lambda m: m.get("t") or 0):
        if mark.get("supervision"):
            found.marks.append({**mark, "at": _clock(mark.get("t"))})
    return found


def _parent_said(film: CaseFilm, clip_id: str) -> str:
    """The parent's words about this clip in the cycle's shared review (the case record)."""
    cycle = next((c for c in film.case.cycles if c.n == film.cycle), None) if film.case else None
    return cycle.review.about(f"{film.rec.id}/{clip_id}") if cycle else ""


def _write_clips(flagged: FlaggedFilm, identities: Sequence[age.Identity], out: Path) -> int:
    """Decrypt the flagged clips the kit exported; a clip not exported (or not synced)
    stays on the sheet, marked so."""
    folder = out / flagged.folder
    written = 0
    for n, clip in enumerate(flagged.clips, start=1):
        try:
            source = flagged.film.rec.export_file(str(clip.get("file") or ""))
        except NotInArchive:
            continue
        if not source.is_file():
            continue
        name = str(clip.get("name") or "")
        clip["out_name"] = f"clip-{n:02d}" + (f"-{_safe(name)}" if name else "") + ".mp4"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _decrypt(source, folder / clip["out_name"], identities)
        written += 1
    return written


def _span(clip: dict[str, Any]) -> str:
    return f"{_clock(clip.get('in'))}–{_clock(clip.get('out'))}"
