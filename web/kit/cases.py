"""The phone's JSON for cases: list, create, read and edit a case, consent, current
case, cycles, assign a film, erase a film, cycle or case, withdraw consent.

Every change is a POST (the page's CSRF check covers POST), answered with the case as
it now is. Erasing is confirmed by sending the case code as typed (``{"code": …}``);
an Unassigned film, which has no case, is confirmed with the word ``ERASE``. Refusals
are sentences: 400 for a bad field, 409 for a conflict or missing consent, 404 for an
unknown case; never a 500.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from werkzeug.wrappers import Response

from device import age, cases
from device.cases import Case
from device.errors import CaseError
from device.library import check_recording_id
from device.recording.recorder import RecorderState
from web.common.json_body import json_object
from web.kit.services import current_identity, current_kit

bp = Blueprint("cases", __name__)
MAX_CASE_BYTES = 64 * 1024
UNASSIGNED_CONFIRM = "ERASE"


def _ids() -> list[age.Identity]:
    identity = current_identity()
    if identity is None:  # the unlock guard runs first
        raise CaseError("the kit is locked")
    return [identity]


def _body() -> dict[str, Any]:
    request.max_content_length = MAX_CASE_BYTES
    return json_object(CaseError)


def case_json(case: Case) -> dict[str, Any]:
    """The case as the page shows it, with each cycle's films (opaque ids)."""
    registry = current_kit().cases.registry
    until = case.erase_by()
    return {
        "id": case.id,
        "code": case.code,
        "revision": case.revision,
        "opened_on": case.opened_on,
        "closed_on": case.closed_on,
        "open": case.is_open,
        "consented": case.consented,
        "consent": None if case.consent is None else vars(case.consent),
        "erase_by": until.isoformat() if until else None,
        "notes": case.notes,
        "question": case.question,
        "current": registry.current() == case.id,
        "cycles": [
            {
                "n": c.n,
                "started_on": c.started_on,
                "question": c.question,
                "questions": [vars(q) for q in c.questions],
                "films": registry.films(case.id, c.n),
            }
            for c in case.cycles
        ],
    }


def _answer(case: Case, status: int = 200) -> tuple[Response, int]:
    return jsonify(case=case_json(case)), status


@bp.get("/cases")
def list_cases() -> Response:
    found = current_kit().cases.all(_ids())
    return jsonify(
        cases=[case_json(c) for c in found],
        current=current_kit().cases.registry.current(),
        unassigned=current_kit().cases.registry.unassigned(),
    )


@bp.get("/cases/unassigned")
def unassigned() -> Response:
    return jsonify(recordings=current_kit().cases.registry.unassigned())


@bp.post("/cases")
def create() -> tuple[Response, int]:
    body = _body()
    question = body.get("question") or ""
    case = cases.new_case(
        current_kit().cases,
        body.get("code"),
        question,
        body.get("consent"),
        _ids(),
        current_kit().kit.recipients,
    )
    return _answer(case, 201)


@bp.get("/cases/<case_id>")
def read(case_id: str) -> tuple[Response, int]:
    return _answer(current_kit().cases.load(cases.check_case_id(case_id), _ids()))


@bp.post("/cases/<case_id>")
def change(case_id: str) -> tuple[Response, int]:
    """``{"ops": [...]}`` (see device.cases.schema), all or nothing."""
    ops = _body().get("ops")
    if not isinstance(ops, list) or not 1 <= len(ops) <= 20:
        raise CaseError("send the changes as a list of 1 to 20 operations")
    store = current_kit().cases
    return _answer(
        store.apply(cases.check_case_id(case_id), ops, _ids(), current_kit().kit.recipients)
    )


@bp.post("/cases/<case_id>/consent")
def consent(case_id: str) -> tuple[Response, int]:
    op = {"op": "consent", "consent": _body().get("consent")}
    store = current_kit().cases
    return _answer(
        store.apply(cases.check_case_id(case_id), [op], _ids(), current_kit().kit.recipients)
    )


@bp.post("/cases/current")
def set_current() -> Response:
    wanted = _body().get("case")
    case_id = None if wanted is None else cases.check_case_id(str(wanted))
    cases.set_current(current_kit().cases, case_id, _ids())
    return jsonify(current=case_id)


@bp.post("/cases/<case_id>/cycles")
def new_cycle(case_id: str) -> tuple[Response, int]:
    question = _body().get("question")
    if question is not None and not isinstance(question, str):
        raise CaseError("the helping question must be text")
    store, ids = current_kit().cases, _ids()
    case = store.load(cases.check_case_id(case_id), ids)  # 404 before counting a cycle
    return _answer(store.new_cycle(case.id, question, ids, current_kit().kit.recipients))


@bp.post("/recordings/<rec_id>/case")
def assign(rec_id: str) -> tuple[Response, int]:
    case_id = cases.check_case_id(str(_body().get("case")))
    return _answer(
        cases.assign_film(current_kit().cases, check_recording_id(rec_id), case_id, _ids())
    )


@bp.post("/recordings/<rec_id>/erase")
def erase_film(rec_id: str) -> Response:
    typed = _body().get("code")
    store, ids = current_kit().cases, _ids()
    row = current_kit().kit.library.index.get(check_recording_id(rec_id))
    if row.case_id:
        cases.confirm_code(store.load(row.case_id, ids), typed)
    elif typed != UNASSIGNED_CONFIRM:
        raise CaseError(
            "this film is in no case: type ERASE to confirm", hint="Nothing was erased."
        )
    cases.erase_film(store.library, store.registry, row.id)
    return jsonify(erased=[row.id])


@bp.post("/cases/<case_id>/cycles/<int:n>/erase")
def erase_cycle(case_id: str, n: int) -> Response:
    store = current_kit().cases
    case = store.load(cases.check_case_id(case_id), _ids())
    cases.confirm_code(case, _body().get("code"))
    if n not in {c.n for c in case.cycles}:
        raise CaseError(f"this case has no cycle {n}")
    return jsonify(erased=cases.erase_cycle(store.library, store.registry, case.id, n))


@bp.post("/cases/<case_id>/erase")
def erase_case(case_id: str) -> Response:
    typed = _body().get("code")
    films = cases.erase_case(current_kit().cases, cases.check_case_id(case_id), typed, _ids())
    return jsonify(erased=films)


@bp.post("/cases/<case_id>/withdraw")
def withdraw(case_id: str) -> tuple[Response, int]:
    """Consent withdrawn: stop a recording of the case, erase it all, close the case."""
    body = _body()
    store, ids = current_kit().cases, _ids()
    case = store.load(cases.check_case_id(case_id), ids)
    cases.confirm_code(case, body.get("code"))
    cases.withdraw_consent(
        store, case.id, body.get("on"), ids, current_kit().kit.recipients, _stop_filming
    )
    return _answer(store.load(case.id, ids))


def _stop_filming(case_id: str) -> None:
    """Stop (and wait for) the recording now running, if it belongs to ``case_id``."""
    page = current_kit()
    kit = page.kit
    status = kit.recorder.status
    if status.state != RecorderState.RECORDING or status.recording_id is None:
        return
    if kit.library.index.get(status.recording_id).case_id != case_id:
        return
    page.control(lambda: kit.recorder.stop(reason="consent withdrawn", wait=True))
