"""Unlock and Lock: the only pages open to a browser that has not unlocked the kit."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from device.errors import WrongPassphrase
from web.common.keyring import TooManyTries
from web.kit.services import current_identity, current_kit
from web.kit.status import recorder_status

bp = Blueprint("auth", __name__)


@bp.get("/unlock")
def unlock_page() -> Response | str:
    if current_identity() is not None:
        return redirect(url_for("pages.home"))
    return render_template("unlock.html", status=recorder_status(), problem=None)


@bp.post("/unlock")
def unlock() -> Response | tuple[str, int]:
    passphrase = request.form.get("passphrase", "")
    try:
        token = current_kit().keyring.unlock(passphrase)
    except (WrongPassphrase, TooManyTries) as e:
        problem = (
            "That passphrase did not open the kit. Check it (it is case sensitive) and try again."
            if isinstance(e, WrongPassphrase)
            else f"{e.message[:1].upper()}{e.message[1:]}."
        )
        status = 401 if isinstance(e, WrongPassphrase) else 429
        return render_template("unlock.html", status=recorder_status(), problem=problem), status
    session.clear()  # a fresh session (and CSRF token) for the unlocked browser
    session["unlock"] = token
    if current_identity() is not None:
        # interrupted films are repaired in the background (web.kit.sealer), never here:
        # the answer takes about the scrypt time however long the films are
        page = current_kit()
        page.sealer.kick()
        page.thumbnailer.kick()
    return redirect(url_for("pages.home"))


@bp.post("/lock")
def lock() -> Response:
    current_kit().keyring.lock()  # which forgets the open films too (see create_app)
    current_kit().thumbnailer.forget()
    session.clear()
    return redirect(url_for("auth.unlock_page"))
