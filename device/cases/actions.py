"""What a practitioner does with cases, each one step: choose the current case, check a
film may start (or may be flagged for supervision), assign a held film, erase a film,
cycle or case, withdraw consent.

Each takes the :class:`CaseStore` and the keys of the unlocked kit; a refusal is a
:class:`CaseError` (or :class:`ConsentMissing`) with a sentence for the page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from device import age
from device.cases import erase, schema
from device.cases.model import Case
from device.cases.store import CaseStore
from device.errors import CaseError, ConsentMissing
from device.library import FINISHED, check_recording_id, require_assigned

StopRecording = Callable[[str], None]  # stop (and wait for) the recording of this case id


def set_current(store: CaseStore, case_id: str | None, identities: Sequence[age.Identity]) -> None:
    """The case the button and the page record into; None: Unassigned."""
    if case_id is not None:
        case = store.load(case_id, identities)
        if not case.is_open:
            raise CaseError(f"case {case.code} is closed", hint="Reopen it first.")
    store.registry.set_current(case_id)
    store.library.audit.append("current case", "", case=case_id or "")


def check_can_film(store: CaseStore, case_id: str | None = None, name: str = "") -> str:
    """The current case's id (or ``case_id``'s, called ``name`` in the sentence) if
    filming into it is allowed now, else a sentence saying what is missing
    (:class:`ConsentMissing`, a 409 on the page). Needs no key."""
    what = name or "the current case"
    case_id = case_id or store.registry.current()
    row = store.registry.get(case_id) if case_id else None
    if row is None:
        raise ConsentMissing(
            "no case is chosen for filming",
            hint="Choose a case with recorded consent (Change case), or make a New case.",
        )
    if row.closed_on is not None:
        raise ConsentMissing(f"{what} is closed", hint="Reopen it or choose another.")
    if not row.consented:
        raise ConsentMissing(f"consent has not been recorded for {what}")
    return row.id


def supervisor_may_watch(store: CaseStore, rec_id: str, identities: Sequence[age.Identity]) -> bool:
    """Whether the consent of the film's case lets a VIG supervisor watch it (and so
    whether its marks and clips may be flagged for supervision). A film in no case, or
    in a case whose consent is missing or withdrawn, may not."""
    case_id = store.library.index.get(rec_id).case_id
    if case_id is None:
        return False
    consent = store.load(case_id, identities).consent
    return consent is not None and consent.valid and consent.supervisor


def assign_film(
    store: CaseStore, rec_id: str, case_id: str, identities: Sequence[age.Identity]
) -> Case:
    """Move a film (Unassigned, or in another case) into ``case_id``'s current cycle."""
    case = store.load(case_id, identities)
    row = store.library.index.get(check_recording_id(rec_id))
    if row.state not in FINISHED:
        raise CaseError("only a finished film can be assigned to a case")
    if not case.consented:
        raise ConsentMissing(
            f"consent has not been recorded for case {case.code}",
            hint="Record the consent first, then assign the film.",
        )
    store.registry.assign(rec_id, case_id, case.current_cycle.n)
    store.library.audit.append("film assigned", rec_id, case=case_id, cycle=case.current_cycle.n)
    return case


def check_film_consented(store: CaseStore, rec_id: str) -> None:
    """Refuse to clip, export or review a film held as Unassigned, or one whose case has
    no consent (recorded, not withdrawn): a 409 with the sentence. Needs no key."""
    row = store.library.index.get(check_recording_id(rec_id))
    require_assigned(row.held)
    case = store.registry.get(row.case_id) if row.case_id else None
    if case is not None and not case.consented:
        raise ConsentMissing(
            "consent has not been recorded for this film's case, so it cannot be clipped,"
            " exported or shown in a review",
        )


def confirm_code(case: Case, typed: object) -> None:
    """Erasing is confirmed by typing the case code."""
    if not isinstance(typed, str) or typed.strip().upper() != case.code:
        raise CaseError(
            "the code typed does not match this case, so nothing was erased",
            hint=f"Type the case code ({case.code}) to confirm.",
        )


def erase_case(
    store: CaseStore, case_id: str, typed: object, identities: Sequence[age.Identity]
) -> list[str]:
    """Erase every film of the case and the case itself."""
    case = store.load(case_id, identities)
    confirm_code(case, typed)
    films = erase.erase_case_films(store.library, store.registry, case_id, "case erased")
    store.forget(case_id)
    store.library.audit.append("case erased", "", case=case_id, films=len(films))
    return films


def withdraw_consent(
    store: CaseStore,
    case_id: str,
    on: str | None,
    identities: Sequence[age.Identity],
    recipients: Sequence[age.Recipient],
    stop_recording: StopRecording,
) -> list[str]:
    """Consent withdrawn: a recording of this case stops, every film is erased, the case
    is closed (its file kept, with the withdrawal date, and nothing else filmed into it)."""
    store.apply(case_id, [{"op": "withdraw", "on": on}], identities, recipients, system=True)
    stop_recording(case_id)
    films = erase.erase_case_films(store.library, store.registry, case_id, "consent withdrawn")
    if store.registry.current() == case_id:
        store.registry.set_current(None)
    return films


def new_case(
    store: CaseStore,
    code: object,
    question: object,
    consent: object | None,
    identities: Sequence[age.Identity],
    recipients: Sequence[age.Recipient],
) -> Case:
    """Create a case and, when the form sent it, record its consent in the same step
    (if the consent is refused, the case is not kept either)."""
    if consent is None:
        return store.create(code, question, identities, recipients)
    schema.check_consent(consent, store.today())  # refuse before anything is written
    ops = [{"op": "consent", "consent": consent}]  # in the case's first version: all or none
    return store.create(code, question, identities, recipients, ops)
