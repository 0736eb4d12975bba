"""The case view's own forms: refine the helping question, start the next cycle, close
and reopen the case, and the case notes.

Plain server-rendered forms, as the rest of the case pages: each answers with the case
view again. A refused form comes back with the sentence next to its field and the words
as typed, so nothing written is lost. The case notes carry a fingerprint of the notes
the phone was shown: if another phone saved other notes since, the page says so (409),
keeps the typed words and shows the notes as they are now, rather than overwrite them.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from device import cases
from device.cases import Case, schema
from device.errors import CaseConflict, VigKitError
from web.common.errors import status_for
from web.kit.case_pages import notes_fingerprint, problem_text, render_case
from web.kit.cases import _ids
from web.kit.services import current_kit

bp = Blueprint("case_edit", __name__)
Change = Callable[[Case], object]


def _edit(case_id: str, field: str, change: Change) -> Response | tuple[str, int]:
    """Run ``change`` on the case; on a refusal, the case view with the sentence next to
    ``field`` and every field of this form as typed."""
    store = current_kit().cases
    case = store.load(cases.check_case_id(case_id), _ids())
    try:
        change(case)
    except VigKitError as e:
        status = status_for(e)  # a code or notes in conflict: 409; a full card: 507
        latest = store.load(case.id, _ids())
        typed = {k: v for k, v in request.form.items() if k != "csrf_token"}
        where = field if _shown(latest, field) else "case"  # else under the case's name
        return render_case(latest, errors={where: problem_text(e)}, typed=typed), status
    return redirect(url_for("case_pages.view", case_id=case.id, _anchor=field), code=303)


def _shown(case: Case, field: str) -> bool:
    """Whether the case view shows ``field``'s form for this case (a closed case has no
    question, next-cycle or close form; only a closed one whose consent was not
    withdrawn has the reopen button)."""
    if field == "notes":
        return True
    if field == "reopen":
        return not case.is_open and not (case.consent and case.consent.withdrawn_on)
    return case.is_open


def _apply(case: Case, *ops: schema.Op) -> Case:
    return current_kit().cases.apply(case.id, list(ops), _ids(), current_kit().kit.recipients)


@bp.post("/case/<case_id>/question")
def refine_question(case_id: str) -> Response | tuple[str, int]:
    """A new wording of the current cycle's helping question (the earlier ones are kept)."""

    def change(case: Case) -> None:
        text = request.form.get("question", "")
        _apply(case, {"op": "question", "text": text, "cycle": case.current_cycle.n})

    return _edit(case_id, "question", change)


@bp.post("/case/<case_id>/next-cycle")
def next_cycle(case_id: str) -> Response | tuple[str, int]:
    """The practitioner says so: the next cycle starts now, with a new question or the
    current one carried forward."""

    def change(case: Case) -> None:
        question = request.form.get("next_question", "")
        current_kit().cases.new_cycle(
            case.id, question or None, _ids(), current_kit().kit.recipients
        )

    return _edit(case_id, "next_question", change)


@bp.post("/case/<case_id>/close")
def close(case_id: str) -> Response | tuple[str, int]:
    """Close the case on the day given: the erase-by clock (months) starts then."""

    def change(case: Case) -> None:
        on = request.form.get("closed_on", "").strip()
        _apply(case, {"op": "close", "on": on or store_today()})

    return _edit(case_id, "closed_on", change)


@bp.post("/case/<case_id>/reopen")
def reopen(case_id: str) -> Response | tuple[str, int]:
    return _edit(case_id, "reopen", lambda case: _apply(case, {"op": "reopen"}))


@bp.post("/case/<case_id>/notes")
def notes(case_id: str) -> Response | tuple[str, int]:
    """The case notes, refused with a conflict if another phone changed them since."""

    def change(case: Case) -> None:
        text = request.form.get("notes", "")
        if request.form.get("base") != notes_fingerprint(case.notes) and text != case.notes:
            raise CaseConflict(
                "someone else changed this case's notes while you were writing yours",
                hint="Your words are still in the box. Add them to the notes as they are "
                "now (shown under it), then save again.",
            )
        _apply(case, {"op": "notes", "text": text, "base": case.notes})

    return _edit(case_id, "notes", change)


def store_today() -> str:
    return current_kit().cases.today().isoformat()
