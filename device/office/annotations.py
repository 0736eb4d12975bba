"""``vigkit office annotations``: a case's marks and clips as CSV and ELAN files, for research.

One row per mark and per clip of every film of the case (``device.office.cases``):
film, cycle, kind, start and end in milliseconds, principles, the mark's note or the
clip's name, and whether it is flagged for supervision. ``<CASE>.csv`` holds them all;
each film with any marks or clips also gets an ELAN file (``device.office.elan``;
``device.office.annotation_export`` writes both).

A mark is a moment, not a span: its ``t`` is already ``MARK_PREROLL_S`` (3 s) before the
practitioner's tap, so the row runs from ``t`` to the tap (``t`` + 3 s, or the film's end
if sooner). Times are rounded to the millisecond once, here, so the CSV and the ELAN file
say the same. No film is written: the ELAN file names the film beside it, which the
office decrypts itself if it wants to watch (docs/office.md).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from device.library.notes import MARK_PREROLL_S
from device.office.cases import CaseFilm

CSV_HEADER = ("film", "cycle", "kind", "start_ms", "end_ms", "principles", "text", "supervision")
PRINCIPLE_SEPARATOR = "; "  # principle names are typed on the kit and may hold commas


@dataclass(frozen=True)
class Annotation:
    film: str
    cycle: int | None
    kind: str  # "mark" or "clip"
    start_ms: int
    end_ms: int
    principles: tuple[str, ...]
    text: str  # the mark's note or the clip's name
    supervision: bool


def film_rows(film: CaseFilm) -> list[Annotation]:
    """The film's marks and clips as rows, in time order (marks before clips at a tie)."""
    rows = [_mark(film, m) for m in film.notes.get("marks") or []]
    rows += [_clip(film, c) for c in film.notes.get("clips") or []]
    return sorted(rows, key=lambda a: (a.start_ms, a.kind != "mark", a.end_ms))


def csv_bytes(rows: Sequence[Annotation]) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")  # RFC 4180, as spreadsheets expect
    writer.writerow(CSV_HEADER)
    for a in rows:
        writer.writerow([
            a.film, "" if a.cycle is None else a.cycle, a.kind, a.start_ms, a.end_ms,
            PRINCIPLE_SEPARATOR.join(a.principles), a.text, "yes" if a.supervision else "no",
        ])  # fmt: skip
    return ("\ufeff" + buf.getvalue()).encode()  # a BOM: spreadsheets then read UTF-8


def ms(seconds: Any) -> int:
    return round(float(seconds) * 1000) if isinstance(seconds, int | float) else 0


def _mark(film: CaseFilm, mark: dict[str, Any]) -> Annotation:
    start = ms(mark.get("t"))
    end = start + ms(MARK_PREROLL_S)
    length = ms(film.rec.duration_s)
    if start < length < end:  # the moment runs to the film's end, not past it
        end = length
    return Annotation(
        film.rec.id, film.cycle, "mark", start, end, _principles(mark),
        str(mark.get("note") or ""), bool(mark.get("supervision")),
    )  # fmt: skip


def _clip(film: CaseFilm, clip: dict[str, Any]) -> Annotation:
    return Annotation(
        film.rec.id, film.cycle, "clip", ms(clip.get("in")), ms(clip.get("out")),
        _principles(clip), str(clip.get("name") or ""), bool(clip.get("supervision")),
    )  # fmt: skip


def _principles(item: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(p) for p in item.get("principles") or ())
