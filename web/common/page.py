"""The one security setup both pages share: a Flask app for a page of VIG Kit.

Each page (the kit's, the office's) is a :class:`PageApp` subclass that carries its own
typed services. Whatever the page, the app is built the same way: the session cookie
(HttpOnly, SameSite=Strict, Secure when served over HTTPS, a random key per run unless one
is given; HSTS then too), the Host check
(``any_host`` endpoints excepted), the form size limit, content-hashed static URLs,
the CSRF check on every POST, the response headers (CSP, nosniff, no-referrer,
``no-store`` on everything but static files) and the error answers in words. Templates
and static files are the web package's, shared by both.
"""

from __future__ import annotations

import secrets
import threading
from pathlib import Path

from flask import Flask, Response

from web.common import errors
from web.common.assets import Assets
from web.common.display import clock_text
from web.common.limits import WHOLE_FILES_AT_ONCE
from web.common.security import add_headers, check_csrf, csrf_token, host_check


class PageApp(Flask):
    """A page's Flask app with the shared protections; ``close`` ends its background work."""

    def __init__(
        self,
        *,
        cookie_name: str,
        max_form_bytes: int,
        title: str,
        secret_key: bytes | str | None = None,
        any_host: frozenset[str] = frozenset(),
        secure: bool = False,
    ) -> None:
        super().__init__("web")  # the web package: its static files and templates
        self.config.update(
            SECRET_KEY=secret_key or secrets.token_bytes(32),  # new each run: old cookies fail
            SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Strict",
            SESSION_COOKIE_NAME=cookie_name,  # each page its own: cookies ignore the port
            # served over HTTPS (web.common.tls_front): the browser never sends it in clear
            SESSION_COOKIE_SECURE=secure,
            MAX_CONTENT_LENGTH=max_form_bytes,
        )
        # whole films (no Range) being sent; web.common.ranges takes and gives back slots
        self.whole_files = threading.BoundedSemaphore(WHOLE_FILES_AT_ONCE)
        self.assets = Assets(Path(self.static_folder or "static"))
        self.url_defaults(self.assets.add_hash)
        self.jinja_env.globals.update(csrf_token=csrf_token, kit_name=title, clock_text=clock_text)
        self.before_request(host_check(any_host))  # first: before any session is read
        self.before_request(check_csrf)
        self.after_request(self._headers)
        errors.register(self)

    def _headers(self, response: Response) -> Response:
        return add_headers(response, self.assets, hsts=self.config["SESSION_COOKIE_SECURE"])

    def close(self) -> None:
        """Stop the page's background work; a page with none has nothing to do."""
