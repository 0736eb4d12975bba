"""The phone's case pages: the list of cases, New case (code, helping question, consent,
in that order), the case view (the family's journey), consent, and Change case.

Plain server-rendered forms: they work without JavaScript, and a refused form comes
back filled in as it was, with the sentence saying what to do. The JSON for the same
actions is ``web.kit.cases``; both go through ``device.cases``.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from device import cases
from device.cases import Case
from device.errors import VigKitError
from device.library import RecordingRow
from web.common.errors import status_for
from web.kit.case_forms import consent_from_form, form_values
from web.kit.cases import _ids
from web.kit.journey import journey, thumb_url
from web.kit.services import current_kit

bp = Blueprint("case_pages", __name__)


def problem_text(e: VigKitError) -> str:
    """The refusal as one or two sentences for the page."""
    text = f"{e.message[:1].upper()}{e.message[1:]}."
    return f"{text} {e.hint}" if e.hint else text


@bp.get("/case")
def index() -> str:
    store = current_kit().cases
    found = store.all(_ids())
    current = store.registry.current()
    return render_template("cases.html", cases=found, current=current, thumbs=_thumbs(found))


def _thumbs(found: list[Case]) -> dict[str, str | None]:
    """Each case's newest film's first picture, for its card."""
    index, registry = current_kit().kit.library.index, current_kit().cases.registry
    thumbs: dict[str, str | None] = {}
    for case in found:
        films = registry.films(case.id)
        thumbs[case.id] = thumb_url(index.get(films[-1])) if films else None
    return thumbs


@bp.post("/case/current")
def change() -> Response | tuple[str, int]:
    """Change case: the case the button and the page record into."""
    wanted = request.form.get("case", "")
    store = current_kit().cases
    try:
        cases.set_current(store, cases.check_case_id(wanted) if wanted else None, _ids())
    except VigKitError as e:
        found = store.all(_ids())
        current = store.registry.current()
        page = render_template(
            "cases.html", cases=found, current=current, thumbs=_thumbs(found),
            problem=problem_text(e),
        )  # fmt: skip
        return page, status_for(e)
    return redirect(url_for("pages.home"), code=303)


@bp.get("/case/new")
def new_page() -> str:
    today = current_kit().cases.today().isoformat()
    return render_template("case_new.html", v=form_values(None, today), problem=None)


@bp.post("/case/new")
def create() -> Response | tuple[str, int]:
    """New case with its consent, in one step; it becomes the current case."""
    form, store = request.form, current_kit().cases
    try:
        consent = consent_from_form(form)
        case = cases.new_case(
            store, form.get("code", ""), form.get("question", ""), consent, _ids(),
            current_kit().kit.recipients,
        )  # fmt: skip
        cases.set_current(store, case.id, _ids())
    except VigKitError as e:
        values = form_values(form, store.today().isoformat())
        page = render_template("case_new.html", v=values, problem=problem_text(e))
        return page, status_for(e)  # a code in use: 409, as the API; a full card: 507
    return redirect(url_for("case_pages.view", case_id=case.id), code=303)


@bp.get("/case/<case_id>")
def view(case_id: str) -> str:
    store = current_kit().cases
    case = store.load(cases.check_case_id(case_id), _ids())
    return render_case(case)


def render_case(
    case: Case, *, errors: dict[str, str] | None = None, typed: dict[str, str] | None = None
) -> str:
    """The case view; ``errors`` by field name (shown next to it), ``typed``: a refused
    form's words, shown as they were typed instead of the case's own."""
    store = current_kit().cases
    return render_template(
        "case.html",
        case=case,
        cycles=journey(store, case, _ids()),
        current=store.registry.current() == case.id,
        errors=errors or {},
        typed=typed or {},
        notes_base=notes_fingerprint(case.notes),
        today=store.today().isoformat(),
    )


def notes_fingerprint(text: str) -> str:
    """What the case notes form sends back to say which notes it was based on (not the
    notes themselves: a long note sent twice would not fit in one form)."""
    return hashlib.sha256(text.encode()).hexdigest()


@bp.get("/case/<case_id>/consent")
def consent_page(case_id: str) -> str:
    case = current_kit().cases.load(cases.check_case_id(case_id), _ids())
    values = form_values(None, current_kit().cases.today().isoformat())
    return render_template("case_consent.html", case=case, v=values, problem=None)


@bp.post("/case/<case_id>/consent")
def save_consent(case_id: str) -> Response | tuple[str, int]:
    store = current_kit().cases
    case = store.load(cases.check_case_id(case_id), _ids())
    op = {"op": "consent", "consent": consent_from_form(request.form)}
    try:
        store.apply(case.id, [op], _ids(), current_kit().kit.recipients)
    except VigKitError as e:
        values = form_values(request.form, store.today().isoformat())
        page = render_template("case_consent.html", case=case, v=values, problem=problem_text(e))
        return page, status_for(e)
    return redirect(url_for("case_pages.view", case_id=case.id), code=303)


def home_case() -> dict[str, object]:
    """Home's line about the case being filmed, and whether Record is offered (the same
    check as the page's record endpoint, so the two never disagree)."""
    store = current_kit().cases
    case_id = store.registry.current()
    case = store.load(case_id, _ids()) if case_id else None
    try:
        cases.check_can_film(store)
        missing, link = None, None
    except VigKitError as e:
        missing = problem_text(e)
        link = (
            url_for("case_pages.consent_page", case_id=case.id)
            if case is not None and case.is_open and case.consent is None
            else url_for("case_pages.index")
        )
    return {"case": case, "cycle": _next_cycle(case), "missing": missing, "link": link}


def _next_cycle(case: Case | None) -> int | None:
    """The cycle the next film joins: the current one, or the next once the current
    one's shared review is done (as the recorder files it)."""
    if case is None:
        return None
    n = case.current_cycle.n
    index, films = current_kit().kit.library.index, current_kit().cases.registry.films(case.id, n)
    return n + 1 if any(index.get(f).review_done for f in films) else n


def film_case(row: RecordingRow) -> dict[str, object]:
    """What the film page says about the case a film belongs to: the case, its cycle
    and that cycle's helping question, and whether the case's consent is recorded (with
    where to record it). Consent belongs to the case; a film has none of its own."""
    if row.case_id is None:
        return {"case": None, "held": row.held}
    try:
        case = current_kit().cases.load(row.case_id, _ids())
    except VigKitError:  # a damaged case file must not hide the film
        return {"case": None, "held": row.held, "unreadable": True}
    cycle = next((c for c in case.cycles if c.n == row.cycle), case.current_cycle)
    link = None
    if not case.consented and case.is_open and case.consent is None:
        link = url_for("case_pages.consent_page", case_id=case.id)
    return {"case": case, "cycle": cycle.n, "question": cycle.question, "consent_link": link}


HTML_PAGES = frozenset(
    {
        "case_pages.index",
        "case_pages.new_page",
        "case_pages.view",
        "case_pages.consent_page",
    }
)
