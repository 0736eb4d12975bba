"""Every failure answers with a sentence a practitioner understands, as HTML or JSON
depending on what was asked; never a stack trace, never a bare 500."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template
from werkzeug.exceptions import HTTPException

from device.errors import (
    CardFull,
    CaseConflict,
    CaseError,
    ClipRangeError,
    ConsentMissing,
    NotesError,
    NotFound,
    RecordingError,
    StorageFull,
    VigKitError,
    is_card_full,
)
from web.common.keyring import TooManyTries
from web.common.security import wants_json

log = logging.getLogger(__name__)


class Missing(VigKitError):
    """A mark, clip or still (not a recording) that is not there: a 404 with its own
    sentence, which names no id."""


class Refused(VigKitError):
    """Something this kit is set not to do (a download while downloads are off): 403."""


SENTENCES = {
    400: ("This request could not be used.", "Go back and try again."),
    401: ("The kit is locked.", "Unlock it with the passphrase to continue."),
    404: ("There is nothing here.", "The list of recordings shows every film on this kit."),
    405: ("That cannot be done on this page.", "Go back and use the buttons on the page."),
    413: ("That was more than this page accepts.", "Go back and try again."),
    421: (
        "This page answers only at the kit's own address.",
        "Open the address the kit shows (https://vigkit.lan/ on its Wi-Fi).",
    ),
    416: ("That part of the film does not exist.", "Start the film again from the beginning."),
    429: ("Please wait a moment before trying again.", ""),
    500: ("Something went wrong on the kit.", "Try again; if it keeps happening, restart it."),
}
CSRF_SENTENCE = (
    "This page was open too long or came from elsewhere, so the kit did not act on it.",
    "Go back, reload the page and try again.",
)


def answer(status: int, message: str, hint: str) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify(error=message, hint=hint), status
    return render_template("error.html", message=message, hint=hint), status


def _http_error(e: HTTPException) -> tuple[Response | str, int]:
    status = e.code or 500
    if status == 400 and e.description == "csrf":
        return answer(400, *CSRF_SENTENCE)
    message, hint = SENTENCES.get(status, SENTENCES[500 if status >= 500 else 400])
    return answer(status, message, hint)


def status_for(e: VigKitError) -> int:
    """The HTTP status of a refusal (a full card is 507: the server has no room)."""
    if isinstance(e, NotFound | Missing):
        return 404
    if isinstance(e, Refused):
        return 403
    if isinstance(e, CaseConflict | ConsentMissing):
        return 409
    if isinstance(e, NotesError | ClipRangeError | CaseError):
        return 400
    if isinstance(e, TooManyTries):
        return 429
    if isinstance(e, StorageFull):
        return 507
    if isinstance(e, RecordingError):
        return 409
    return 500


def _kit_error(e: VigKitError) -> tuple[Response | str, int]:
    if isinstance(e, NotFound):  # never echo a hostile id back
        return answer(404, "There is no such recording on this kit.", e.hint)
    message = e.message[:1].upper() + e.message[1:]
    return answer(status_for(e), message.rstrip(".") + ".", e.hint)


def _unexpected(e: Exception) -> tuple[Response | str, int]:
    if is_card_full(e):  # a write path that does not say what it saves: still the truth
        log.warning("a save was refused by the card: %s", e)
        return _kit_error(CardFull("this was not saved"))
    log.exception("unexpected error on the web page")
    return answer(500, *SENTENCES[500])


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(VigKitError, _kit_error)
    app.register_error_handler(Exception, _unexpected)
