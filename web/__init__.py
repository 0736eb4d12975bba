"""The phone web page: unlock, record and stop, the list of recordings, and playback.

``create_app`` is given an open :class:`device.app.Kit`; it reads no config and no
environment. The kit's identity is unlocked into this process's memory only.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from flask import Flask, redirect, request, url_for
from werkzeug.exceptions import Unauthorized
from werkzeug.wrappers import Response

from device.app import Kit
from web import auth, errors, pages
from web.keyring import Keyring
from web.security import add_headers, check_csrf, csrf_token, current_identity, wants_json

__all__ = ["create_app"]

PUBLIC_ENDPOINTS = frozenset({"auth.unlock_page", "auth.unlock", "pages.status", "static"})
HTML_PAGES = frozenset({"pages.home", "pages.recordings", "pages.film"})
MAX_FORM_BYTES = 16 * 1024


def create_app(
    kit: Kit,
    *,
    secret_key: bytes | str | None = None,
    idle_timeout_s: float = 900,
    clock: Callable[[], float] = time.monotonic,
) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key or secrets.token_bytes(32),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="vigkit",
        MAX_CONTENT_LENGTH=MAX_FORM_BYTES,
    )
    app.extensions["vigkit.kit"] = kit
    app.extensions["vigkit.keyring"] = Keyring(
        kit.library.data.kit_identity_file, idle_timeout_s=idle_timeout_s, clock=clock
    )
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.before_request(check_csrf)
    app.before_request(_require_unlock)
    app.after_request(add_headers)
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    errors.register(app)
    return app


def _require_unlock() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None  # None: no route matched, so the 404 handler answers
    if current_identity() is not None:
        return None
    if request.method == "GET" and request.endpoint in HTML_PAGES and not wants_json():
        return redirect(url_for("auth.unlock_page"))
    raise Unauthorized
