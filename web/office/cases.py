"""The office page's cases: the archive's case list and a case's journey, read-only.

The same journey as the kit's case view (``device.cases.journey``, drawn by the shared
``_journey_film.html``), over the archive: each case's file decrypted in memory with
the organisation's key (:mod:`device.office.cases`), its films found through the
manifests, pictures and stills served by the film pages' routes. Each film shows the
supervisors' comments on it and links to its page, where comments are added.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, render_template, url_for

from device.cases.journey import JourneyStill
from device.errors import VigKitError
from device.office.cases import ArchiveCases
from device.office.recordings import ArchiveRecording, read_notes
from web.common.journey import Links, cycle_views
from web.office import comments as office_comments
from web.office.access import office
from web.office.pages import film_thumbs

log = logging.getLogger(__name__)
bp = Blueprint("office_cases", __name__)

HTML_PAGES = frozenset({"office_cases.index", "office_cases.view"})


def _cases() -> ArchiveCases:
    state = office()
    return ArchiveCases(state.recordings, state.identities)


@bp.get("/cases")
def index() -> str:
    found, problems = _cases().all()
    return render_template("office_cases.html", cases=found, problems=problems)


@bp.get("/cases/<kit>/<case_id>")
def view(kit: str, case_id: str) -> str:
    archive = _cases()
    ac = archive.get(kit, case_id)
    journey = archive.journey(ac)
    recs = {r.id: r for r in office().recordings.all() if r.kit == ac.kit}
    films = {f.id: recs[f.id] for cy in journey for f in cy.films if f.id in recs}
    return render_template(
        "office_case.html",
        case=ac.case,
        kit=ac.kit,
        cycles=cycle_views(journey, _links(films)),
        comments={rec_id: _comments(rec) for rec_id, rec in films.items()},
    )


def _links(films: dict[str, ArchiveRecording]) -> Links:
    def thumb(rec_id: str, t_s: float) -> str | None:
        rec = films.get(rec_id)
        if rec is None or not rec.playable:
            return None
        try:
            strip = film_thumbs(rec) or []
        except VigKitError as e:  # damaged pictures must not hide the journey
            log.warning("thumbnails of %s: %s", rec_id, e.message)
            return None
        if not strip:
            return None
        n = min(range(len(strip)), key=lambda i: abs(strip[i].t_s - t_s))
        return url_for("office.thumb", kit=rec.kit, rec_id=rec_id, n=n)

    def still(rec_id: str, s: JourneyStill) -> str | None:
        rec = films.get(rec_id)
        if rec is None or not rec.listed(f"{rec.id}.{s.file}.age"):
            return None
        return url_for("office.still_jpg", kit=rec.kit, rec_id=rec_id, still_id=s.id)

    def playable(rec_id: str) -> bool:
        return rec_id in films and films[rec_id].playable

    return Links(thumb=thumb, still=still, playable=playable)


def _comments(rec: ArchiveRecording) -> list[dict[str, Any]]:
    said, _problem = office_comments.comments_or_problem(rec)
    if not said:
        return []
    try:
        doc: dict[str, Any] | None = read_notes(rec, office().identities).to_json()
    except VigKitError:
        doc = None
    return [office_comments.shown(c, doc) for c in said]
