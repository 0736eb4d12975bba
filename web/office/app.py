"""The review page at the office: ``vigkit office serve ARCHIVE -i ORG.KEY``.

The same page as the kit's, over a synced archive instead of a kit: the recordings of
every kit folder, the film player (the same virtual MP4 and Range answers), thumbnails,
the notes, consent and shared review as the kit sent them, a supervisor's comments, and
the cases with each family's journey (``web.office.cases``).
Only read-only pages are registered: no record button, preview, settings, sync, salvage,
clip export or downloads exist here, so their URLs answer 404. The server never writes a
file the kit sent; a comment goes into the office's own file (``device.office.comments``).

The organisation's key is loaded by the command and held in this process's memory only.
The page is not open to whoever can reach the port: the URL the command prints carries a
random access code made for this run (as Jupyter does), which sets the session cookie;
a browser without it is asked for the code, or the key's passphrase if the key file has
one. The kit's protections all hold: CSRF tokens, the CSP, ``no-store``, ``nosniff``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from flask import Blueprint, redirect, render_template, request, session, url_for
from jinja2 import ChoiceLoader, FileSystemLoader
from werkzeug.exceptions import HTTPException, Unauthorized
from werkzeug.wrappers import Response

from device import age
from device.errors import NotesError, NotFound, VigKitError
from device.office.recordings import ArchiveRecordings, NotInArchive
from web.common import errors
from web.common.backoff import TooManyTries, client_keys
from web.common.security import wants_json
from web.office import cases as office_cases
from web.office import pages as office_pages
from web.office.access import Gate, Office, OfficeApp, office

__all__ = ["Gate", "create_office_app"]

SESSION_KEY = "office"
TEMPLATES = Path(__file__).parent.parent / "templates"
PUBLIC_ENDPOINTS = frozenset({"gate.page", "gate.enter", "static"})
HTML_PAGES = office_pages.HTML_PAGES | office_cases.HTML_PAGES

bp = Blueprint("gate", __name__)


def create_office_app(
    recordings: ArchiveRecordings,
    identities: Sequence[age.Identity],
    gate: Gate,
    *,
    secret_key: bytes | None = None,
    title: str = "VIG Kit office",
) -> OfficeApp:
    """The office's read-only review page over ``recordings``, opened with ``identities``.
    ``app.close()`` forgets the films it keeps open for seeking."""
    if not any(isinstance(i, age.X25519Identity) for i in identities):
        raise VigKitError(
            "the office page needs the organisation's key (AGE-SECRET-KEY-1…)",
            hint="Give the office key file with -i.",
        )
    app = OfficeApp(Office(recordings, list(identities), gate), title=title, secret_key=secret_key)
    # The office's own templates first; its error.html replaces the kit's, which links to
    # the kit's home page.
    app.jinja_loader = ChoiceLoader(
        [FileSystemLoader(TEMPLATES / "office"), FileSystemLoader(TEMPLATES)]
    )
    app.before_request(_require_entry)
    app.register_blueprint(bp)
    app.register_blueprint(office_pages.bp)
    app.register_blueprint(office_cases.bp)
    # the shared error answers, then the office's own words for what differs from the kit
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(VigKitError, _office_error)
    return app


def _entered() -> bool:
    return session.get(SESSION_KEY) == office().run


def _let_in() -> None:
    session.clear()  # a fresh session (and CSRF token) for the browser that came in
    session[SESSION_KEY] = office().run


def _require_entry() -> Response | None:
    given = request.args.get("token")
    if given is not None and request.method == "GET" and office().gate.code_ok(given):
        _let_in()
        return redirect(request.path)  # the code leaves the address bar and the history
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None  # None: no route matched, so the 404 handler answers
    if _entered():
        return None
    if request.method == "GET" and request.endpoint in HTML_PAGES and not wants_json():
        return redirect(url_for("gate.page"))
    raise Unauthorized


@bp.get("/enter")
def page() -> Response | str:
    if _entered():
        return redirect(url_for("office.recordings"))
    return render_template(
        "office_gate.html", problem=None, passphrase=office().gate.takes_passphrase
    )


@bp.post("/enter")
def enter() -> Response | tuple[str, int]:
    gate = office().gate
    try:
        client = client_keys(request.remote_addr, session.get("csrf"))
        ok = gate.enter(request.form.get("code", ""), client)
    except TooManyTries as e:
        problem = f"{e.message[:1].upper()}{e.message[1:]}."
        return render_template(
            "office_gate.html", problem=problem, passphrase=gate.takes_passphrase
        ), 429
    if not ok:
        what = "access code or passphrase" if gate.takes_passphrase else "access code"
        problem = (
            f"That {what} did not open the page. The access code is in the address that "
            "vigkit office serve printed (after token=)."
        )
        return render_template(
            "office_gate.html", problem=problem, passphrase=gate.takes_passphrase
        ), 401
    _let_in()
    return redirect(url_for("office.recordings"))


# --- errors, in the office's words ------------------------------------------------------

OFFICE_SENTENCES = {
    401: ("This page needs the access code.", "Open the address vigkit office serve printed."),
    404: ("There is nothing here.", "The list of recordings shows every film in the archive."),
}


_answer = errors.answer  # error.html is the office's own here (see the template loader)


def _http_error(e: HTTPException) -> tuple[Response | str, int]:
    if e.code in OFFICE_SENTENCES:
        return _answer(e.code, *OFFICE_SENTENCES[e.code])
    return errors._http_error(e)


def _office_error(e: VigKitError) -> tuple[Response | str, int]:
    """A sentence for every refusal; a file that is missing, damaged or not for this key
    is the archive's state, not a fault of the server, so it is never a 500."""
    if isinstance(e, NotFound):  # never echo a hostile id back
        return _answer(404, "There is no such recording in this archive.", e.hint)
    if isinstance(e, NotInArchive | errors.Missing):
        status = 404
    elif isinstance(e, NotesError):
        status = 400
    elif isinstance(e, TooManyTries):
        status = 429
    else:
        status = 422
    message = e.message[:1].upper() + e.message[1:]
    return _answer(status, message.rstrip(".") + ".", e.hint)
