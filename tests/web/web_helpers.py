"""Helpers for the phone page tests: a synthetic kit with a passphrase-wrapped identity,
a clock the tests move, and the unlock steps a browser takes."""

from __future__ import annotations

import http.cookiejar
import json
import re
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from device import age, cases, config
from device.cases import Case, CaseStore
from device.kit.assembly import Kit, open_kit
from device.kit.wall_clock import OwnClock
from device.library import Library
from web.common.serving import KitServer
from web.common.tls_front import SecureServer
from web.kit import PageSettings

PASSPHRASE = "quiet otter paints blue harbours"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def page_settings(**fields: Any) -> PageSettings:
    """The Settings page's settings for a test: a clock of its own, never the machine's."""
    clock = OwnClock()
    return PageSettings(set_clock=clock, wall=clock.now, **fields)


CASE = "F-0231"
CONSENT = {
    "given_on": "2026-11-02",
    "practitioner": True,
    "supervisor": True,
    "training": False,
    "stops_on_request": True,
    "erase_months": 2,
}

# the consent form as a phone sends it (web.kit.case_forms)
CONSENT_FORM = {
    "given_on": date.today().isoformat(),
    "practitioner": "yes",
    "supervisor": "yes",
    "training": "no",
    "stops_on_request": "yes",
    "erase_rule": "months",
    "erase_months": "2",
}


def consented_case(kit: Kit, identity: age.Identity, code: str = CASE) -> Case:
    """A case with consent, made the kit's current case (films then land in it)."""
    case = cases.new_case(
        kit.cases, code, "How do we take turns?", CONSENT, [identity], kit.recipients
    )
    cases.set_current(kit.cases, case.id, [identity])
    return case


def consented_case_in(
    data: Path, identity: age.Identity, films: Sequence[str] = (), code: str = CASE
) -> str:
    """In a data dir not open elsewhere: a consented case made current, ``films`` filed
    into its cycle 1 (``vigkit record`` with no case holds its films as Unassigned)."""
    library = Library(data)
    try:
        recipients = age.parse_recipients((data / "keys" / "recipients.txt").read_text())
        store = CaseStore(library)
        case = cases.new_case(store, code, "How do we take turns?", CONSENT, [identity], recipients)
        for rec_id in films:
            store.registry.assign(rec_id, case.id, 1)
        cases.set_current(store, case.id, [identity])
        return case.id
    finally:
        library.close()


def make_kit(data: Path, *, fast: bool = False, case: bool = True) -> Kit:
    """A synthetic kit; ``case``: with a consented current case (else films are held as
    Unassigned)."""
    identity = age.X25519Identity.generate()
    keys = data / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    (keys / "kit-identity.age").write_bytes(age.wrap_identity(identity, PASSPHRASE, work_factor=10))
    kit = open_kit(kit_config(data, fast=fast), [identity.recipient()])
    if case:
        consented_case(kit, identity)
    return kit


def kit_config(data: Path, *, fast: bool = False) -> config.Config:
    """The synthetic kit's settings (``open_kit(kit_config(data))`` opens a made kit again)."""
    return config.load(
        overrides={
            "data_dir": data,
            "camera": "synthetic",
            "microphone": "synthetic",
            "width": 320,
            "height": 180,
            "fps": 30,
            "bitrate": 500_000,
            "storage_reserve_mb": 10,
            "fast": fast,
        }
    )


def csrf(client: FlaskClient, path: str = "/unlock") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found, page
    return found.group(1)


def unlock(client: FlaskClient, passphrase: str = PASSPHRASE) -> int:
    response = client.post("/unlock", data={"passphrase": passphrase, "csrf_token": csrf(client)})
    return response.status_code


# --- a kit served over real HTTP ------------------------------------------------------


@contextmanager
def serving(server: KitServer | SecureServer) -> Iterator[int]:
    """``server`` answering on a thread of its own until the block ends; yields its port
    (the HTTPS port of a ``SecureServer``)."""
    thread = threading.Thread(target=server.serve, name="test-server", daemon=True)
    thread.start()
    try:
        yield server.port
    finally:
        server.stop()
        thread.join(10)
        server.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def make_keys(data: Path, passphrase: str = PASSPHRASE) -> age.X25519Identity:
    """A data dir's keys as ``vigkit setup`` leaves them: the kit identity wrapped with
    ``passphrase`` and the recipients file (office + kit). Returns the office identity."""
    office, kit = age.X25519Identity.generate(), age.X25519Identity.generate()
    keys = data / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    (keys / "kit-identity.age").write_bytes(age.wrap_identity(kit, passphrase, work_factor=10))
    (keys / "recipients.txt").write_text(f"{office.recipient()}\n{kit.recipient()}\n")
    return office


class HttpSession:
    """A browser's side of the page over HTTP(S): cookies, the CSRF token, JSON or HTML.
    ``cafile``: the CA an HTTPS page's certificate must chain to (and nothing else)."""

    def __init__(self, base: str, cafile: Path | None = None) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        handlers: list[urllib.request.BaseHandler] = [
            urllib.request.HTTPCookieProcessor(self.cookies),
            _NoRedirect(),
        ]
        if cafile is not None:
            context = ssl.create_default_context(cafile=str(cafile))
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self.opener = urllib.request.build_opener(*handlers)
        self.token = ""

    def request(
        self,
        path: str,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        method: str | None = None,
        body: bytes | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
        req = urllib.request.Request(
            self.base + path, data=body, headers=headers or {}, method=method
        )
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, dict(e.headers), e.read()

    def page(self, path: str) -> str:
        _, _, body = self.request(path)
        text = body.decode()
        found = re.search(r'name="csrf-token" content="([^"]+)"', text)
        if found:
            self.token = found.group(1)
        return text

    def unlock(self, passphrase: str = PASSPHRASE) -> int:
        self.page("/unlock")
        status, _, _ = self.request("/unlock", {"passphrase": passphrase, "csrf_token": self.token})
        self.page("/")
        return status

    def post_json(self, path: str, data: dict[str, str]) -> tuple[int, Any]:
        status, _, body = self.request(
            path, data, {"Accept": "application/json", "X-CSRF-Token": self.token}
        )
        return status, json.loads(body)

    def status(self) -> Any:
        return json.loads(self.request("/status")[2])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def wait_until(check: Callable[[], bool], timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.05)
