"""Writing a case's annotations: ``<CASE>.csv`` and one ELAN file per annotated film.

The rows come from ``device.office.annotations``, the ELAN documents from
``device.office.elan``. Each file is written whole or not at all, readable by its owner
only (0600): the notes in it are the family's.
"""

from __future__ import annotations

from pathlib import Path

from device.library import atomic_writer
from device.office.annotations import Annotation, csv_bytes, film_rows
from device.office.cases import ArchiveCases
from device.office.elan import eaf_bytes
from device.office.export import _safe, check_output


def write_annotations(cases: ArchiveCases, code: str, out: Path, *, force: bool) -> list[Path]:
    """``<CODE>.csv`` and one ``.eaf`` per annotated film in ``out``; the files written.
    Only what the office's kits signed is read (``cases``' archive was opened with the
    register of kits)."""
    check_output(out, force)
    films = cases.case_films(code)
    code = _safe(films[0].code)
    rows: list[Annotation] = []
    written = []
    for film in films:
        found = film_rows(film)
        if not found:
            continue
        rows += found
        name = f"{code}_cycle-{film.cycle or 0}_{film.rec.id}"
        written.append(_write(out / f"{name}.eaf", eaf_bytes(film, found)))
    written.insert(0, _write(out / f"{code}.csv", csv_bytes(rows)))
    return written


def _write(path: Path, data: bytes) -> Path:
    with atomic_writer(path, 0o600) as f:
        f.write(data)
    return path
