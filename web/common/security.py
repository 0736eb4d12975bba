"""Per-request protections both pages share: the Host check, the CSRF token and the
response headers.

A request must name the page by an address or by a name no public DNS can answer (one
without a dot, ``.lan``, ``.local``, ``localhost``): a web page elsewhere whose own name was made to
point at the kit (DNS rebinding) would otherwise read the kit's page as its own. Every
POST carries the session's CSRF token (a form field, or the ``X-CSRF-Token``
header from the page's script). Every response forbids inline script and outside
origins; everything but the first-party static files is ``no-store``, because pages and
films show decrypted content.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import urllib.parse
from collections.abc import Callable

from flask import Response, abort, request, session

from web.common.assets import Assets

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


HSTS_MAX_AGE_S = 365 * 24 * 3600  # a year: phones that opened the kit securely stay secure

LOCAL_SUFFIXES = (".lan", ".local", ".localhost")  # names only the kit's own DNS answers


def host_allowed(host: str) -> bool:
    """True for an IP address, a name without a dot (``localhost``, a laptop's own name)
    or a name under ``LOCAL_SUFFIXES``."""
    try:
        parts = urllib.parse.urlsplit("//" + host)
        name, _ = parts.hostname or "", parts.port  # a port that is not a number raises
    except ValueError:  # a malformed port or bracket
        return False
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    return bool(name) and ("." not in name or name.endswith(LOCAL_SUFFIXES))


def host_check(any_host: frozenset[str]) -> Callable[[], None]:
    """A ``before_request`` refusing (421) other names, except for ``any_host``
    endpoints (the phones' connectivity probes, asked for by Google's or Apple's name)."""

    def check() -> None:
        if request.endpoint not in any_host and not host_allowed(request.host):
            abort(421, description="host")

    return check


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


def add_headers(response: Response, assets: Assets, *, hsts: bool = False) -> Response:
    """The headers of every answer; ``hsts``: the page is served over HTTPS, so a browser
    that has seen it once goes there directly (never to the plain-HTTP landing page)."""
    response.headers["Content-Security-Policy"] = CSP
    if hsts and request.is_secure:
        response.headers["Strict-Transport-Security"] = f"max-age={HSTS_MAX_AGE_S}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.endpoint == "static" and response.status_code in (200, 304):
        return assets.cache_headers(response)
    response.headers["Cache-Control"] = "no-store"
    return response
