"""Unlock and Lock: the only pages open to a browser that has not unlocked the kit."""

from __future__ import annotations

import logging

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from device import age
from device.cases import needs_upgrade, upgrade_from_notes
from device.errors import RecipientsChanged, WrongPassphrase
from device.kit import Kit
from web.common.backoff import TooManyTries, client_keys
from web.kit.services import current_identity, current_kit
from web.kit.status import recorder_status

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)
WRONG = "That passphrase did not open the kit. Check it (it is case sensitive) and try again."


def _next_page(asked: str | None) -> str:
    """Where to go after unlocking: the kit's own page that was asked for, else Home.
    Only a path on this kit is followed (never ``//elsewhere`` or a full address)."""
    if asked and asked.startswith("/") and not asked.startswith(("//", "/\\")):
        return asked
    return url_for("pages.home")


def _unlock_form(problem: str | None, asked: str | None) -> str:
    return render_template(
        "unlock.html",
        status=recorder_status(),
        problem=problem,
        next=_next_page(asked),
    )


@bp.get("/unlock")
def unlock_page() -> Response | str:
    if current_identity() is not None:
        return redirect(_next_page(request.args.get("next")))
    return _unlock_form(None, request.args.get("next"))


@bp.post("/unlock")
def unlock() -> Response | tuple[str, int]:
    passphrase = request.form.get("passphrase", "")
    try:
        client = client_keys(request.remote_addr, session.get("csrf"))
        token = current_kit().keyring.unlock(passphrase, client)
    except (WrongPassphrase, TooManyTries) as e:
        problem, status = refusal(
            e,
            "That passphrase did not open the kit. Check it (it is case sensitive) and try again.",
        )
        return _unlock_form(problem, request.form.get("next")), status
    except RecipientsChanged as e:
        log.error("unlock refused: %s", e.message)
        flagged = current_kit().recipients.flagged
        return render_template("recipients_changed.html", problem=e, flagged=flagged), 409
    session.clear()  # a fresh session (and CSRF token) for the unlocked browser
    session["unlock"] = token
    identity = current_identity()
    if identity is not None:
        # interrupted films are repaired in the background (web.kit.sealer), never here:
        # the answer takes about the scrypt time however long the films are
        page = current_kit()
        page.sealer.kick()
        _sort_into_cases(page.kit, identity)
        page.thumbnailer.kick()
        page.exports.kick()  # frame-exact clips asked for while recording, if still queued
    return redirect(_next_page(request.form.get("next")))


def refusal(e: WrongPassphrase | TooManyTries, wrong: str) -> tuple[str, int]:
    """The sentence and status for a refused passphrase: ``wrong``, or how long to wait."""
    if isinstance(e, WrongPassphrase):
        return wrong, 401
    return f"{e.message[:1].upper()}{e.message[1:]}.", 429


@bp.post("/lock")
def lock() -> Response:
    current_kit().keyring.lock()  # which forgets the open films too (see create_app)
    current_kit().thumbnailer.forget()
    session.clear()
    return redirect(url_for("auth.unlock_page"))


def _sort_into_cases(kit: Kit, identity: age.X25519Identity) -> None:
    """A kit from before cases: its films are sorted into cases at the first unlock (the
    case codes are in their encrypted notes). Quick when there is nothing to sort."""
    if not needs_upgrade(kit.cases):
        return
    report = upgrade_from_notes(kit.cases, current_kit().notes, [identity], kit.recipients)
    for problem in report.problems:
        log.warning("sorting films into cases: %s", problem)
