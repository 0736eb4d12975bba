"""What a case is, as the rest of the kit sees it: frozen views of the encrypted document.

The document itself (``device.cases.schema``) is plain JSON; these classes are read-only
views of it, built by :func:`case_from_doc`, so a page or a command never edits a case
except through the store's operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from device.library.notes_schema import add_months

DEFAULT_ERASE_MONTHS = 2  # as in common VIG consent forms: two months after the case closes


@dataclass(frozen=True)
class Question:
    """One wording of a cycle's helping question, with the day it was written."""

    text: str
    on: str  # ISO date


@dataclass(frozen=True)
class Reflection:
    """The parent's words about one moment of the shared review (``at``: recording/item)."""

    at: str
    prompt: str
    text: str


@dataclass(frozen=True)
class CycleReview:
    """What the parent said in the cycle's shared review (``device.cases.reflections``)."""

    moments: tuple[Reflection, ...] = ()
    closing: str = ""
    on: str | None = None

    def about(self, at: str) -> str:
        return next((m.text for m in self.moments if m.at == at), "")


@dataclass(frozen=True)
class Cycle:
    """One turn of film → micro-analysis → shared review. ``questions`` is the history of
    its helping question, oldest first; a new cycle starts with the last one's question."""

    n: int
    started_on: str
    questions: tuple[Question, ...]
    review: CycleReview = CycleReview()

    @property
    def question(self) -> str:
        return self.questions[-1].text if self.questions else ""


@dataclass(frozen=True)
class Consent:
    """What the parent agreed to, before any filming.

    ``erase_months`` (after the case closes) or ``erase_on`` (a set date) is the erase rule;
    exactly one is set. ``withdrawn_on`` ends it: the case is then erased and closed."""

    given_on: str
    practitioner: bool
    supervisor: bool
    training: bool
    stops_on_request: bool
    erase_months: int | None = DEFAULT_ERASE_MONTHS
    erase_on: str | None = None
    withdrawn_on: str | None = None

    @property
    def valid(self) -> bool:
        """Filming may go on: given, told it stops on request, and not withdrawn."""
        return bool(self.given_on) and self.stops_on_request and self.withdrawn_on is None


@dataclass(frozen=True)
class Case:
    """One family's case. ``id`` is opaque (the file name and the index key); ``code`` is
    the pseudonymous case code, which lives only inside the encrypted document."""

    id: str
    code: str
    revision: int
    opened_on: str
    closed_on: str | None
    consent: Consent | None
    cycles: tuple[Cycle, ...]
    notes: str

    @property
    def is_open(self) -> bool:
        return self.closed_on is None

    @property
    def consented(self) -> bool:
        return self.consent is not None and self.consent.valid

    @property
    def current_cycle(self) -> Cycle:
        return self.cycles[-1]

    @property
    def question(self) -> str:
        return self.current_cycle.question

    def erase_by(self) -> date | None:
        """The erase-by date the rule gives (None while an open case's rule is in months:
        that clock starts when the case closes)."""
        consent = self.consent
        if consent is None:
            return None
        if consent.erase_on is not None:
            return date.fromisoformat(consent.erase_on)
        if self.closed_on is None or consent.erase_months is None:
            return None
        return add_months(date.fromisoformat(self.closed_on), consent.erase_months)


@dataclass(frozen=True)
class Filing:
    """Where a new film goes: a case and cycle, or (``case_id`` None) Unassigned."""

    case_id: str | None
    cycle: int | None

    @property
    def unassigned(self) -> bool:
        return self.case_id is None


@dataclass(frozen=True)
class EraseRequest:
    """One erase the office must apply too: opaque ids and dates only."""

    seq: int
    kind: str  # "film", "cycle" or "case"
    case_id: str  # "" for an Unassigned film
    recordings: tuple[str, ...]
    cycle: int | None
    requested_at: str  # UTC, ISO
    sent_at: str | None = None
