"""Erase now, Withdraw consent and Assign to a case, as phone pages.

Each erase is one confirmed step away: the confirm page names what goes and asks for
the case code to be typed (``ERASE`` for an Unassigned film, which has no case). A
mistyped code erases nothing and the page says so, keeping what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from device import cases
from device.cases import Case
from device.errors import CaseError, VigKitError
from device.library import check_recording_id
from web.common.errors import status_for
from web.kit.case_pages import problem_text
from web.kit.cases import UNASSIGNED_CONFIRM, _ids, _stop_filming
from web.kit.services import current_kit

bp = Blueprint("erase_pages", __name__)


@dataclass(frozen=True)
class Confirm:
    """What a confirm page says and where its form goes."""

    title: str  # also the button's words, and so its accessible name
    what: str
    code: str  # what must be typed
    action: str
    back: str


def _confirm(c: Confirm, problem: str | None = None, status: int = 200) -> tuple[str, int]:
    typed = request.form.get("code", "") if problem else ""
    return render_template("erase.html", c=c, problem=problem, typed=typed), status


def _case(case_id: str) -> Case:
    return current_kit().cases.load(cases.check_case_id(case_id), _ids())


def _film_confirm(rec_id: str) -> tuple[Confirm, str | None]:
    row = current_kit().kit.library.index.get(check_recording_id(rec_id))
    action = url_for("erase_pages.erase_film", rec_id=row.id)
    if not row.case_id:
        what = "This film is in no case. It is deleted from the kit now and cannot be brought back."
        back = url_for("pages.recordings")
        return Confirm("Erase film", what, UNASSIGNED_CONFIRM, action, back), None
    case = _case(row.case_id)
    what = (
        f"This film of case {case.code} (cycle {row.cycle}), with its clips and stills, is "
        "deleted from the kit now and cannot be brought back; the office is asked to erase "
        "its copy too."
    )
    back = url_for("case_pages.view", case_id=case.id)
    return Confirm("Erase film", what, case.code, action, back), case.id


@bp.route("/recordings/<rec_id>/erase-now", methods=["GET", "POST"])
def erase_film(rec_id: str) -> Response | tuple[str, int]:
    confirm, case_id = _film_confirm(rec_id)
    if request.method == "GET":
        return _confirm(confirm)
    store, typed = current_kit().cases, request.form.get("code", "")
    try:
        if case_id is not None:
            cases.confirm_code(_case(case_id), typed)
        elif typed.strip().upper() != UNASSIGNED_CONFIRM:
            raise CaseError("the word typed is not ERASE, so nothing was erased")
        cases.erase_film(store.library, store.registry, check_recording_id(rec_id))
    except VigKitError as e:
        return _confirm(confirm, problem_text(e), status_for(e))
    return redirect(confirm.back, code=303)


@bp.route("/case/<case_id>/cycles/<int:n>/erase", methods=["GET", "POST"])
def erase_cycle(case_id: str, n: int) -> Response | tuple[str, int]:
    case = _case(case_id)
    if n not in {c.n for c in case.cycles}:
        raise CaseError(f"case {case.code} has no cycle {n}")
    what = (
        f"Every film of cycle {n} of case {case.code}, with its clips, stills and reflections, "
        "is deleted from the kit now; the office is asked to erase its copies too."
    )
    action = url_for("erase_pages.erase_cycle", case_id=case.id, n=n)
    back = url_for("case_pages.view", case_id=case.id)
    confirm = Confirm(f"Erase cycle {n}", what, case.code, action, back)
    if request.method == "GET":
        return _confirm(confirm)
    store = current_kit().cases
    try:
        cases.confirm_code(case, request.form.get("code", ""))
        cases.erase_cycle(store.library, store.registry, case.id, n)
    except VigKitError as e:
        return _confirm(confirm, problem_text(e), status_for(e))
    return redirect(back, code=303)


@bp.route("/case/<case_id>/erase", methods=["GET", "POST"])
def erase_case(case_id: str) -> Response | tuple[str, int]:
    case = _case(case_id)
    what = (
        f"Case {case.code} and every film, clip, still and note in it are deleted from the "
        "kit now and cannot be brought back; the office is asked to erase its copies too."
    )
    action = url_for("erase_pages.erase_case", case_id=case.id)
    confirm = Confirm(
        "Erase case", what, case.code, action, url_for("case_pages.view", case_id=case.id)
    )
    if request.method == "GET":
        return _confirm(confirm)
    try:
        cases.erase_case(current_kit().cases, case.id, request.form.get("code", ""), _ids())
    except VigKitError as e:
        return _confirm(confirm, problem_text(e), status_for(e))
    return redirect(url_for("case_pages.index"), code=303)


@bp.route("/case/<case_id>/withdraw", methods=["GET", "POST"])
def withdraw(case_id: str) -> Response | tuple[str, int]:
    case = _case(case_id)
    what = (
        f"The parent has withdrawn consent for case {case.code}. A recording of this case "
        "stops now, every film of it is erased, and the case is closed; the office is asked "
        "to erase its copies too."
    )
    action = url_for("erase_pages.withdraw", case_id=case.id)
    back = url_for("case_pages.view", case_id=case.id)
    confirm = Confirm("Withdraw consent", what, case.code, action, back)
    if request.method == "GET":
        return _confirm(confirm)
    store, ids = current_kit().cases, _ids()
    try:
        cases.confirm_code(case, request.form.get("code", ""))
        cases.withdraw_consent(
            store, case.id, None, ids, current_kit().kit.recipients, _stop_filming
        )
    except VigKitError as e:
        return _confirm(confirm, problem_text(e), status_for(e))
    return redirect(back, code=303)


@bp.route("/recordings/<rec_id>/assign", methods=["GET", "POST"])
def assign(rec_id: str) -> Response | tuple[str, int]:
    """Assign to a case: only cases with consent are offered."""
    row = current_kit().kit.library.index.get(check_recording_id(rec_id))
    store = current_kit().cases
    choices = [c for c in store.all(_ids()) if c.consented and c.is_open]
    problem, status = None, 200
    if request.method == "POST":
        try:
            wanted = cases.check_case_id(request.form.get("case", ""))
            case = cases.assign_film(store, row.id, wanted, _ids())
            return redirect(url_for("case_pages.view", case_id=case.id), code=303)
        except VigKitError as e:
            problem, status = problem_text(e), status_for(e)
    page = render_template("assign.html", film=row, choices=choices, problem=problem)
    return page, status


HTML_PAGES = frozenset(
    {
        "erase_pages.erase_film",
        "erase_pages.erase_cycle",
        "erase_pages.erase_case",
        "erase_pages.withdraw",
        "erase_pages.assign",
    }
)
