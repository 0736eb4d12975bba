"""A case's journey as data: cycle after cycle, its helping question (with the history of
its wording), its films, their clips and stills, and the parent's reflections.

Pure and shared: the kit's case view (``web.kit.journey``), the office's case view
(``web.office.cases``) and ``vigkit office export --case`` build the same journey from a
:class:`Case`, the films of each cycle and each film's notes document, already decrypted
in memory by whoever holds the key. Each adds its own addresses for pictures and clips;
nothing here reads or writes a file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from device.cases.model import Case, CycleReview, Question


@dataclass(frozen=True)
class JourneyClip:
    id: str
    name: str
    principles: tuple[str, ...]
    start_s: float | None
    end_s: float | None
    file: str  # the exported file's kind ("clip-1.mp4"), "" while not exported

    @property
    def length_s(self) -> float | None:
        if self.start_s is None or self.end_s is None:
            return None
        return self.end_s - self.start_s


@dataclass(frozen=True)
class JourneyStill:
    id: str
    t_s: float
    caption: str
    file: str  # "still-1.jpg"; a still not exported yet is not in the journey


@dataclass(frozen=True)
class JourneyFilm:
    """One film with what was made from it; ``readable`` False when its notes could not
    be read (the film still shows, with a sentence, never hiding the rest)."""

    id: str
    duration_s: float
    review_done: bool
    readable: bool
    clips: tuple[JourneyClip, ...] = ()
    stills: tuple[JourneyStill, ...] = ()
    reflections: str = ""
    marks: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class JourneyCycle:
    n: int
    started_on: str
    questions: tuple[Question, ...]  # the wording's history, oldest first
    films: tuple[JourneyFilm, ...]
    current: bool
    review: CycleReview = field(default_factory=CycleReview)  # the shared review's words

    @property
    def question(self) -> str:
        return self.questions[-1].text if self.questions else ""

    @property
    def earlier_questions(self) -> tuple[Question, ...]:
        """The wordings before the one in use, newest first."""
        return tuple(reversed(self.questions[:-1]))

    @property
    def reviewed(self) -> bool:
        return any(f.review_done for f in self.films)


def film_from_notes(
    rec_id: str, duration_s: float, doc: Mapping[str, Any] | None, *, review_done: bool = False
) -> JourneyFilm:
    """The journey's view of one film from its notes document (None: unreadable)."""
    if doc is None:
        return JourneyFilm(rec_id, duration_s, review_done, readable=False)
    clips = sorted(doc.get("clips") or [], key=lambda c: (c.get("order") or 0, c["id"]))
    stills = sorted(doc.get("stills") or [], key=lambda s: (s.get("t") or 0, s["id"]))
    review = doc.get("review") or {}
    return JourneyFilm(
        id=rec_id,
        duration_s=duration_s,
        review_done=review_done or bool(review.get("done")),
        readable=True,
        clips=tuple(_clip(c) for c in clips),
        stills=tuple(_still(s) for s in stills if s.get("file")),
        reflections=str(review.get("reflections") or "").strip(),
        marks=tuple(doc.get("marks") or ()),
    )


def _clip(clip: Mapping[str, Any]) -> JourneyClip:
    start, end = clip.get("in"), clip.get("out")
    return JourneyClip(
        id=str(clip["id"]),
        name=str(clip.get("name") or ""),
        principles=tuple(str(p) for p in clip.get("principles") or ()),
        start_s=float(start) if isinstance(start, int | float) else None,
        end_s=float(end) if isinstance(end, int | float) else None,
        file=str(clip.get("file") or ""),
    )


def _still(still: Mapping[str, Any]) -> JourneyStill:
    return JourneyStill(
        str(still["id"]), float(still.get("t") or 0.0), str(still.get("caption") or ""),
        str(still["file"]),
    )  # fmt: skip


def cycles(case: Case, films: Mapping[int, Sequence[JourneyFilm]]) -> list[JourneyCycle]:
    """Every cycle of ``case``, oldest first, with its films as given (oldest first).
    Films of a cycle the case document does not know yet (counted while the kit was
    locked) get a cycle of their own, carrying the last question forward."""
    known = {c.n: c for c in case.cycles}
    last = case.cycles[-1]
    numbers = sorted(set(known) | set(films))
    out = []
    for n in numbers:
        cycle = known.get(n)
        questions = cycle.questions if cycle else last.questions[-1:]
        started = cycle.started_on if cycle else ""
        review = cycle.review if cycle else CycleReview()
        here = tuple(films.get(n, ()))
        out.append(JourneyCycle(n, started, questions, here, n == numbers[-1], review))
    return out
