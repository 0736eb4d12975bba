"""A case's journey (:mod:`device.cases.journey`) as both case views show it: the same
cards for the kit's phone page and the office's read-only page (``_journey.html``).

Each page says where its pictures live (``Links``): the kit's thumbnails and stills come
from its own routes, the office's from the archive's; the rest is the same words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from device.cases.journey import JourneyClip, JourneyCycle, JourneyFilm, JourneyStill
from web.common.display import clock_text


@dataclass(frozen=True)
class Links:
    """Where one page finds a film's pictures: ``thumb(film id, seconds)`` (None while the
    film has none), ``still(film id, still)``, and whether a film can be opened."""

    thumb: Callable[[str, float], str | None]
    still: Callable[[str, JourneyStill], str | None]
    playable: Callable[[str], bool]


def cycle_views(cycles: Sequence[JourneyCycle], links: Links) -> list[dict[str, Any]]:
    """Every cycle, oldest first, as the template's cards."""
    return [
        {
            "n": cy.n,
            "started_on": cy.started_on,
            "question": cy.question,
            "questions": list(cy.questions),  # oldest first: how it was refined
            "films": [_film(f, links) for f in cy.films],
            "reviewed": cy.reviewed,
            "current": cy.current,
            "review": cy.review,  # the parent's words in the shared review
        }
        for cy in cycles
    ]


def _film(film: JourneyFilm, links: Links) -> dict[str, Any]:
    stills = ((s, links.still(film.id, s)) for s in film.stills)
    return {
        "id": film.id,
        "length": clock_text(film.duration_s),
        "thumb": links.thumb(film.id, 0.0),
        "playable": links.playable(film.id),
        "review_done": film.review_done,
        "readable": film.readable,
        "clips": [_clip(film.id, c, links) for c in film.clips],
        "stills": [{"src": src, "caption": s.caption} for s, src in stills if src],
        "reflections": film.reflections,
    }


def _clip(film_id: str, clip: JourneyClip, links: Links) -> dict[str, Any]:
    length = clip.length_s
    return {
        "id": clip.id,
        "rec_id": film_id,
        "name": clip.name,
        "principles": list(clip.principles),
        "length": clock_text(length) if length is not None else "",
        "thumb": links.thumb(film_id, clip.start_s or 0.0),
        "exported": bool(clip.file),
    }
