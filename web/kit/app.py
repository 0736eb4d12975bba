"""The phone web page: unlock, record and stop, the list of recordings, and playback.

``create_app`` is given an open :class:`device.kit.assembly.Kit`; it reads no config and no
environment. The kit's identity is unlocked into this process's memory only.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, redirect, request, url_for
from werkzeug.exceptions import Unauthorized
from werkzeug.wrappers import Response

from device.kit.assembly import Kit
from device.library import NotesStore
from web.common import assets, errors
from web.common.display import clock_text
from web.common.films import Layouts
from web.common.keyring import Keyring
from web.common.security import add_headers, check_csrf, csrf_token, current_identity, wants_json
from web.kit import auth, media, notes_api, pages, probes, review, settings, sync
from web.kit.thumbnailer import Thumbnailer

__all__ = ["create_app"]

PUBLIC_ENDPOINTS = (
    frozenset({"auth.unlock_page", "auth.unlock", "pages.status", "static"}) | probes.ENDPOINTS
)
HTML_PAGES = frozenset(
    {"pages.home", "pages.recordings", "pages.film", "settings.page", "review.page"}
)
MAX_FORM_BYTES = 16 * 1024
T = TypeVar("T")


def _direct(call: Callable[[], T]) -> T:
    return call()


def create_app(
    kit: Kit,
    *,
    secret_key: bytes | str | None = None,
    idle_timeout_s: float = 900,
    clock: Callable[[], float] = time.monotonic,
    control: Callable[[Callable[[], Any]], Any] = _direct,
    kit_name: str = "VIG Kit",
    thumbnails: bool = True,
    allow_downloads: bool = False,
) -> Flask:
    """The page over ``kit``. ``control`` runs the recorder's start and stop (``vigkit run``
    passes a full-priority thread, see ``web.common.serving``); ``thumbnails`` makes missing
    thumbnails in the background while the kit is unlocked and idle. Close the background
    work with ``app.extensions["vigkit.close"]()``. ``allow_downloads`` lets a phone save
    decrypted clips and stills (off by default; each download is in the audit log)."""
    app = Flask("web")  # the web package: its static files and templates, shared with the office
    app.config.update(
        SECRET_KEY=secret_key or secrets.token_bytes(32),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="vigkit",
        MAX_CONTENT_LENGTH=MAX_FORM_BYTES,
    )
    layouts = Layouts()
    keyring = Keyring(
        kit.library.data.kit_identity_file,
        idle_timeout_s=idle_timeout_s,
        clock=clock,
        on_forget=layouts.clear,
    )
    thumbnailer = Thumbnailer(kit, keyring, enabled=thumbnails)
    app.extensions["vigkit.kit"] = kit
    app.extensions["vigkit.keyring"] = keyring
    app.extensions["vigkit.control"] = control
    app.extensions["vigkit.thumbnailer"] = thumbnailer
    app.extensions["vigkit.layouts"] = layouts
    app.extensions["vigkit.notes"] = NotesStore(
        kit.library.data, kit.library.index, kit.library.audit
    )
    app.extensions["vigkit.allow_downloads"] = allow_downloads

    def close() -> None:
        sync.runner(app).close()
        thumbnailer.close()
        layouts.clear()  # the film readers kept open between range requests

    app.extensions["vigkit.close"] = close
    assets.register(app)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["kit_name"] = kit_name
    app.jinja_env.globals["clock_text"] = clock_text
    app.before_request(check_csrf)
    app.before_request(_require_unlock)
    app.after_request(add_headers)
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(notes_api.bp)
    app.register_blueprint(media.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(settings.bp)
    app.register_blueprint(sync.bp)
    app.register_blueprint(probes.bp)
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
