"""The kit's page served over real HTTP on loopback, and clients that come from an
address of their own (Linux answers every 127.0.0.0/8 address), so a test can play a
practitioner and strangers on one hotspot."""

from __future__ import annotations

import functools
import http.client
import socket
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from device import age
from tests.web.web_helpers import PASSPHRASE, HttpSession, make_kit, page_settings, serving
from web.common.limits import LIMITS, ConnectionLimits
from web.common.serving import KitServer
from web.kit import KitApp, create_app

PRACTITIONER = "127.0.0.1"
STRANGER = "127.0.0.2"
WORK_FACTOR = 16  # the kit's scrypt cost before #17 (197 ms a guess in the review)


class _FromAddress(urllib.request.HTTPHandler):
    handler_order = 100  # before the opener's own HTTPHandler

    def __init__(self, source: str) -> None:
        super().__init__()
        self._source = source

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        make = functools.partial(http.client.HTTPConnection, source_address=(self._source, 0))
        return self.do_open(make, req)  # type: ignore[arg-type]


class Phone(HttpSession):
    """A browser on the hotspot at ``source``."""

    def __init__(self, base: str, source: str) -> None:
        super().__init__(base)
        self.opener.add_handler(_FromAddress(source))


@contextmanager
def served_kit(tmp_path: Path, limits: ConnectionLimits = LIMITS) -> Iterator[str]:
    """A synthetic kit's page, its key wrapped at ``WORK_FACTOR``; yields its base URL."""
    kit = make_kit(tmp_path / "data", case=False)
    key = tmp_path / "data" / "keys" / "kit-identity.age"
    identity = age.unwrap_identity(key.read_bytes(), PASSPHRASE)
    key.write_bytes(age.wrap_identity(identity, PASSPHRASE, work_factor=WORK_FACTOR))
    app = create_app(kit, settings=page_settings(), thumbnails=False)
    try:
        with serving(KitServer(app, "127.0.0.1", 0, limits=limits)) as port:
            yield f"http://127.0.0.1:{port}"
    finally:
        app.close()
        kit.close()


def timed_unlock(phone: Phone) -> tuple[int, float]:
    """The practitioner's unlock as she sees it: the page, the passphrase, the answer."""
    start = time.monotonic()
    phone.page("/unlock")
    status, _, _ = phone.request("/unlock", {"passphrase": PASSPHRASE, "csrf_token": phone.token})
    return status, time.monotonic() - start


def idle_connection(port: int, source: str) -> socket.socket:
    """A connection that says nothing, as an attacker holds it."""
    sock = socket.socket()
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


@contextmanager
def kit_app(tmp_path: Path) -> Iterator[KitApp]:
    """The kit's page in the Flask test client's reach (no server): a synthetic kit."""
    kit = make_kit(tmp_path / "data")
    app = create_app(kit, settings=page_settings(), secret_key="test", thumbnails=False)
    try:
        yield app
    finally:
        app.close()
        kit.close()
