"""Review-only mode: the phone handed to a parent shows the shared review and nothing else.

Starting a review (a POST from the film page or the case view) switches this browser
session into review-only mode, held on the server (``web.kit.review_scope``). From then
on :func:`gate` runs before every request of the session: only the review's own page, the
exported clips and stills of its films and its save endpoints answer (plus the static
files and the phones' "is there internet?" probes, which carry no cookie and show nothing);
anything else — Back into the case notes, a typed ``/recordings`` address, another
family's clip, the raw film — answers the gate page. The gate page asks for the kit's
passphrase (through the key ring, so wrong tries back off as at Unlock), or the short PIN
the practitioner may set when starting the review (``web.kit.review_scope.Pin``); the
right one ends the mode and goes back to the case.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from device import cases
from device.errors import CaseError, WrongPassphrase
from device.library import check_recording_id
from web.common.backoff import TooManyTries, client_keys
from web.common.errors import answer
from web.common.security import wants_json
from web.kit import probes
from web.kit.auth import refusal
from web.kit.review_scope import PIN, Pin, ReviewScope
from web.kit.services import current_kit

bp = Blueprint("review_mode", __name__)

OPEN_IN_REVIEW = frozenset({"static", "review_mode.gate_page", "review_mode.leave"}) | (
    probes.ENDPOINTS  # no cookie reaches them (other host names); a phone needs them
)
# the review's own page, with the endpoint that saves its reflections
SAVE_OF_PAGE = {"review.page": "review_save.film", "cycle_review.page": "review_save.cycle"}
WRONG_WORDS = "That is not the kit's passphrase, so the review stays open."
MEDIA = frozenset({"media.clip_mp4", "media.still_jpg", "review_save.prepare"})


def current_scope() -> ReviewScope | None:
    """The review this browser session is held in, or None."""
    return current_kit().reviews.get(session.get("unlock"))


def gate() -> Response | tuple[Response | str, int] | None:
    """Runs before every request: in review-only mode, refuse anything outside the review."""
    scope = current_scope()
    if scope is None or allowed(scope, request.endpoint, request.view_args or {}):
        return None
    if request.method == "GET" and not wants_json():
        return gate_page(), 403
    return answer(
        403,
        "This phone is showing a shared review, so only the review answers.",
        "The practitioner can leave the review with the kit's passphrase.",
    )


def allowed(scope: ReviewScope, endpoint: str | None, args: dict[str, object]) -> bool:
    if endpoint in OPEN_IN_REVIEW:
        return True
    if endpoint in MEDIA:
        return str(args.get("rec_id")) in scope.films
    if scope.is_page(endpoint, args):
        return True
    return scope.is_page(_page_of(endpoint), args)


def _page_of(save_endpoint: str | None) -> str | None:
    return next((page for page, save in SAVE_OF_PAGE.items() if save == save_endpoint), None)


@bp.get("/review/leave")
def gate_page() -> Response | str:
    scope = current_scope()
    if scope is None:
        return redirect(url_for("pages.home"))
    has_pin = current_kit().reviews.has_pin(session.get("unlock"))
    return render_template("review_gate.html", problem=None, scope=scope, has_pin=has_pin)


@bp.post("/review/leave")
def leave() -> Response | tuple[str, int]:
    """The kit's passphrase ends review-only mode and goes back to the case."""
    scope = current_scope()
    if scope is None:
        return redirect(url_for("pages.home"))
    typed = request.form.get("passphrase", "")
    held = str(session.get("unlock"))
    if current_kit().reviews.has_pin(held) and PIN.fullmatch(typed):
        return _leave_with_pin(scope, held, typed)
    try:
        client = client_keys(request.remote_addr, session.get("csrf"))  # its own back-off
        token = current_kit().keyring.unlock(typed, client)
    except (WrongPassphrase, TooManyTries) as e:
        return _gate(
            scope, *refusal(e, "That is not the kit's passphrase, so the review stays open.")
        )
    current_kit().reviews.end(held)
    session.clear()  # a fresh session (and token) for the practitioner
    session["unlock"] = token
    return redirect(scope.back, code=303)


def _leave_with_pin(scope: ReviewScope, held: str, typed: str) -> Response | tuple[str, int]:
    wait = current_kit().reviews.try_pin(held, typed)
    if wait is None:
        current_kit().reviews.end(held)  # the same session, no longer held
        return redirect(scope.back, code=303)
    if wait > 0:
        seconds = max(1, round(wait))
        return _gate(scope, f"Please wait {seconds} seconds before trying again.", 429)
    return _gate(scope, "That is not this review's PIN, so the review stays open.", 401)


def _gate(scope: ReviewScope, problem: str, status: int) -> tuple[str, int]:
    has_pin = current_kit().reviews.has_pin(session.get("unlock"))
    page = render_template("review_gate.html", problem=problem, scope=scope, has_pin=has_pin)
    return page, status


@bp.post("/recordings/<rec_id>/review/start")
def start_film(rec_id: str) -> Response:
    return _start(film_scope(rec_id))


@bp.post("/case/<case_id>/cycles/<int:n>/review/start")
def start_cycle(case_id: str, n: int) -> Response:
    return _start(cycle_scope(case_id, n, request.form.getlist("also")))


def _start(scope: ReviewScope) -> Response:
    """Hold this session in ``scope``; a PIN typed on the start form (optional) may end it."""
    typed = request.form.get("pin", "").strip()
    pin = Pin.of(typed) if typed else None
    token = session.get("unlock")
    if isinstance(token, str):  # always: the unlock guard ran first
        current_kit().reviews.start(token, scope, pin)
        current_kit().kit.library.audit.append("review started", scope.newest)
    return redirect(scope.page, code=303)


def film_scope(rec_id: str) -> ReviewScope:
    """A film's own review: its clips and stills; reflections to its case's cycle."""
    store = current_kit().cases
    rec_id = check_recording_id(rec_id)
    cases.check_film_consented(store, rec_id)  # never Unassigned, never unconsented
    row = store.library.index.get(rec_id)
    back = (
        url_for("case_pages.view", case_id=row.case_id)
        if row.case_id
        else url_for("pages.film", rec_id=rec_id)
    )
    return ReviewScope(
        endpoint="review.page",
        args=(("rec_id", rec_id),),
        page=url_for("review.page", rec_id=rec_id),
        films=frozenset({rec_id}),
        newest=rec_id,
        case_id=row.case_id,
        cycle=row.cycle if row.case_id else None,
        back=back,
    )


def cycle_scope(case_id: str, n: int, also: Sequence[str]) -> ReviewScope:
    """A cycle's review: every film of the cycle, and the earlier cycles' films whose
    clips were picked ("look how this has grown")."""
    store = current_kit().cases
    case_id = cases.check_case_id(case_id)
    films = store.registry.films(case_id, n)
    if not films:
        raise CaseError(f"cycle {n} of this case has no film yet", hint="Film this cycle first.")
    cases.check_film_consented(store, films[-1])
    earlier = {rec for c in range(1, n) for rec in store.registry.films(case_id, c)}
    picked = [value for value in also if value.partition("/")[0] in earlier]
    return ReviewScope(
        endpoint="cycle_review.page",
        args=(("case_id", case_id), ("n", str(n))),
        page=url_for("cycle_review.page", case_id=case_id, n=n, also=picked),
        films=frozenset(films) | {value.partition("/")[0] for value in picked},
        newest=films[-1],
        case_id=case_id,
        cycle=n,
        back=url_for("case_pages.view", case_id=case_id),
    )
