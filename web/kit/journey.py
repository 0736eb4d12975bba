"""A case's journey as the phone's case view shows it: cycle after cycle, each with its
helping question, its films, their clips and stills, and the parent's reflections.

Built in memory from the encrypted case and the films' encrypted notes, for one page
view; nothing here is written anywhere. The journey itself is ``device.cases.journey``
(the office builds the same one); this module finds the kit's films and their pictures.
A film whose notes cannot be read still shows, with a sentence, so one damaged sidecar
never hides the rest of a family's journey.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import url_for

from device import age
from device.cases import Case, CaseStore
from device.cases.journey import JourneyFilm, JourneyStill, cycles, film_from_notes
from device.errors import VigKitError
from device.library import FINISHED, RecordingRow
from web.common.journey import Links, cycle_views
from web.kit.services import current_kit


def thumb_url(row: RecordingRow, t_s: float = 0.0) -> str | None:
    """The timeline picture nearest ``t_s`` of a film, or None while it has none yet."""
    if row.state not in FINISHED:
        return None
    strip = current_kit().thumbnailer.strip(row.id)
    if not strip:
        return None
    n = min(range(len(strip)), key=lambda i: abs(strip[i].t_s - t_s))
    return url_for("pages.thumb", rec_id=row.id, n=n)


def film_entry(row: RecordingRow, identities: Sequence[age.Identity]) -> JourneyFilm:
    """One film of the journey with what was made from it."""
    try:
        doc: dict[str, Any] | None = current_kit().notes.load(row.id, identities).to_json()
    except VigKitError:
        doc = None
    return film_from_notes(row.id, row.duration_s, doc, review_done=row.review_done)


def journey(store: CaseStore, case: Case, identities: Sequence[age.Identity]) -> list[Any]:
    """Every cycle of ``case``, oldest first, with its films (oldest first)."""
    index = store.library.index
    rows = {rec_id: index.get(rec_id) for rec_id in store.registry.films(case.id)}
    films = {
        cycle.n: [film_entry(rows[r], identities) for r in store.registry.films(case.id, cycle.n)]
        for cycle in case.cycles
    }

    def still(rec_id: str, s: JourneyStill) -> str:
        return url_for("media.still_jpg", rec_id=rec_id, still_id=s.id)

    links = Links(
        thumb=lambda rec_id, t: thumb_url(rows[rec_id], t),
        still=still,
        playable=lambda rec_id: rows[rec_id].state in FINISHED,
    )
    return cycle_views(cycles(case, films), links)
