"""Per-request protections both pages share: the CSRF token and the response headers.

Every POST carries the session's CSRF token (a form field, or the ``X-CSRF-Token``
header from the page's script). Every response forbids inline script and outside
origins; everything but the first-party static files is ``no-store``, because pages and
films show decrypted content.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Response, abort, request, session

from web.common.assets import Assets

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def csrf_token() -> str:
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def check_csrf() -> None:
    if request.method != "POST":
        return
    expected = session.get("csrf")
    given = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    # as bytes: compare_digest refuses str with non-ASCII characters (a hostile token)
    if not isinstance(expected, str) or not hmac.compare_digest(
        expected.encode(), given.encode("utf-8", "replace")
    ):
        abort(400, description="csrf")


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" or request.path == "/status"


def add_headers(response: Response, assets: Assets) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.endpoint == "static" and response.status_code in (200, 304):
        return assets.cache_headers(response)
    response.headers["Cache-Control"] = "no-store"
    return response
