"""The real kit in this process, as ``vigkit run`` builds it, and Debian's Chromium as a phone.

One kit serves the whole browser session: ``Appliance`` (the composition of ``vigkit
run``) with a synthetic camera and microphone, gpiozero's ``MockFactory`` for the button
and LED, served over HTTPS as a kit serves it (nginx, the TLS front, before waitress) on
a free port. Before it starts, an hour-long synthetic film is recorded into its data dir
as fast as the machine allows (see ``kit_data``), then a short film at the kit's usual 30
frames a second for marking and cutting clips.

Chromium runs with its profile (and its ``HOME``) in pytest's temporary folder, so the
session-end check for plaintext (tests/conftest.py) also searches everything the browser
kept on disk. Both engines trust the kit's TLS certificate for real (tests/browser/trust.py):
Chromium through an NSS database holding the demo CA that ``demo_tls`` made for the
data dir, WebKit through the kit's own certificate pinned for 127.0.0.1.
Every request for a film is logged server-side (``FilmLog``), to count range requests
and the bytes the kit sent.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright

from device import config
from device.commands.run import Appliance
from device.library import Library
from device.tls import KitTls, demo_tls
from tests.browser import engines, trust
from tests.browser.engines import ChromiumPhone, Phone, WebKitPhone
from tests.browser.playback import FilmLog, StaticFilms, faststart, serve_static
from tests.web.web_helpers import PASSPHRASE, HttpSession, consented_case_in, free_port, make_keys

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--autoplay-policy=no-user-gesture-required",
]
PHONE = {"width": 390, "height": 844}
AXE = Path(__file__).parent / "vendor" / "axe-core-4.10.3.min.js"
BUTTON, LED = 17, 27
LONG_FILM_S = 3600
SHORT_FILM_S = 12
BASE_CASE = "T-0001"
TIMEOUT_MS = 30_000  # a shared 2-CPU machine: generous, but every wait is for an event
HOST = "127.0.0.1"  # the kit's address in the tests; its certificate also names localhost
TLS_NAMES = ["localhost"]


@dataclass
class ServedKit:
    appliance: Appliance
    url: str
    pins: MockFactory
    films: FilmLog
    long_film_id: str
    shutdowns: list[str]
    tls: KitTls  # its certificate (``tls.certificate``) and the CA (``tls.ca``)
    short_film_id: str = ""

    def session(self) -> HttpSession:
        """A client of the page (urllib) that trusts the kit's CA and nothing else."""
        return HttpSession(self.url, cafile=self.tls.ca)


def _record(data: Path, seconds: int, size: str, fps: int, bitrate: int) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "device.cli",
            "record",
            "--data",
            str(data),
            "--seconds",
            str(seconds),
            "--size",
            size,
            "--fps",
            str(fps),
            "--bitrate",
            str(bitrate),
            "--mic",
            "none",
            "--fast",
            "--reserve-mb",
            "10",
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )


@pytest.fixture(scope="package")
def kit_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The browser kit's data dir (not made yet)."""
    return tmp_path_factory.mktemp("browser-kit") / "data"


def tls_files(data: Path) -> KitTls:
    """The kit's TLS files in ``data``, as ``vigkit demo`` makes them: a throw-away CA
    limited to localhost and 127.0.0.1 (its key dropped), and the kit's certificate from
    it. Made once; kept while valid."""
    return demo_tls(data, TLS_NAMES, [ip_address(HOST)])


@pytest.fixture(scope="package")
def kit_tls(kit_dir: Path) -> KitTls:
    """The browser kit's TLS files, made before any browser starts (they trust its CA)."""
    return tls_files(kit_dir)


@pytest.fixture(scope="package")
def kit_data(kit_dir: Path, kit_tls: KitTls) -> tuple[Path, str, str]:
    """A data dir with the kit's keys, one hour-long film and one short film.

    The hour is recorded by ``vigkit record --fast`` (the kit's real recorder, muxer and
    age writer) from the synthetic camera at 64x64 and 5 frames a second, picture only:
    a keyframe every second still makes 3600 fragments, which is what the player's
    requests depend on, and it takes seconds rather than minutes. The short film (12 s,
    320x180 at 30 frames a second) is for marks, clips and stills. Both belong to case
    T-0001, whose consent is recorded and which is the kit's current case, so the page
    may film (a kit films only into a consented case; see test_cases.py for the rest)."""
    data = kit_dir  # its TLS files are already there (kit_tls)
    office = make_keys(data)
    _record(data, LONG_FILM_S, "64x64", 5, 25_000)  # the least a kit takes
    _record(data, SHORT_FILM_S, "320x180", 30, 300_000)
    library = Library(data)
    try:
        short, long = library.index.all()  # newest first
    finally:
        library.close()
    # filmed into a case with consent (F-0231 is left for test_cases.py to make)
    consented_case_in(data, office, [long.id, short.id], code=BASE_CASE)
    assert long.duration_s == pytest.approx(LONG_FILM_S, abs=1)
    assert short.duration_s == pytest.approx(SHORT_FILM_S, abs=0.5)
    return data, long.id, short.id


@contextlib.contextmanager
def serve_kit(data: Path, long_id: str, short_id: str = "") -> Iterator[ServedKit]:
    """The kit of ``vigkit run`` on ``data`` in this process, over HTTPS as a kit serves
    it (the TLS front: nginx in front of waitress) on a free port, with the certificate
    of ``tls_files``; its plain-HTTP landing page on another free port."""
    tls = tls_files(data)
    cfg = config.load(
        overrides={
            "data_dir": data,
            "kit_name": "Test kit",
            "camera": "synthetic",
            "microphone": "synthetic",
            "width": 320,
            "height": 180,
            "fps": 30,
            "bitrate": 400_000,
            "storage_reserve_mb": 10,
            "http_host": HOST,
            "https": True,
            "https_port": free_port(),
            "http_port": free_port(),
            "button_pin": BUTTON,
            "led_pin": LED,
        }
    )
    pins = MockFactory()
    shutdowns: list[str] = []
    appliance = Appliance(cfg, shutdown=lambda: shutdowns.append("now"), pin_factory=pins)
    films = FilmLog(appliance.app.wsgi_app)
    appliance.app.wsgi_app = films  # type: ignore[method-assign]
    server = threading.Thread(target=appliance.serve, name="test-server", daemon=True)
    server.start()
    try:
        yield ServedKit(
            appliance,
            f"https://{HOST}:{appliance.server.port}",
            pins,
            films,
            long_id,
            shutdowns,
            tls,
            short_id,
        )
    finally:
        appliance.stop()
        server.join(10)
        appliance.close()
        pins.close()


@pytest.fixture(scope="package")
def served(kit_data: tuple[Path, str, str]) -> Iterator[ServedKit]:
    data, long_id, short_id = kit_data
    with serve_kit(data, long_id, short_id) as kit:
        yield kit


@pytest.fixture(scope="package")
def playwright(kit_tls: KitTls) -> Iterator[Playwright]:
    """Playwright, whose own HTTP client (``page.request``: Node.js, not the browser)
    trusts the kit's CA too: ``NODE_EXTRA_CA_CERTS``, read once as its driver starts."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("NODE_EXTRA_CA_CERTS", str(kit_tls.ca))
        p = sync_playwright().start()
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture(scope="package")
def browser(
    playwright: Playwright, tmp_path_factory: pytest.TempPathFactory, kit_tls: KitTls
) -> Iterator[BrowserContext]:
    """Chromium as a phone, its profile (and any cache) inside pytest's temp folder,
    trusting the kit's CA (only that CA: see test_https.py)."""
    home = tmp_path_factory.mktemp("chromium-home")
    context = playwright.chromium.launch_persistent_context(
        str(home / "profile"),
        env=trust.chromium_env(home, kit_tls.ca),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        viewport=PHONE,
        screen=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(browser: BrowserContext, served: ServedKit) -> Iterator[Page]:
    """A fresh tab with no session; fails the test on any CSP violation or script error."""
    browser.clear_cookies()
    tab = browser.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    tab.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and "Content Security Policy" in m.text
            else None
        ),
    )
    yield tab
    tab.close()
    assert not problems, problems


def unlock(page: Page, url: str, passphrase: str = PASSPHRASE) -> None:
    page.goto(url + "/")
    page.get_by_label("Passphrase").fill(passphrase)
    page.get_by_role("button", name="Unlock").click()
    page.wait_for_url(url + "/")


def leave_review(page: Page, url: str, passphrase: str = PASSPHRASE) -> None:
    """End the review-only mode the way the practitioner does: the kit's passphrase."""
    page.goto(url + "/review/leave")
    page.get_by_label("Kit passphrase").fill(passphrase)
    page.get_by_role("button", name="Back to the case").tap()
    page.wait_for_url(url + "/case/**")


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[Any]:
    """axe-core's violations of the given impact on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())  # evaluated by DevTools: the page's CSP still holds
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["html"] for n in v["nodes"]][:5],
        }
        for v in result
        if v["impact"] in impacts
    ]


# --- both engines: the playback tests' phone ------------------------------------------


@pytest.fixture(scope="package")
def webkit(tmp_path_factory: pytest.TempPathFactory, kit_tls: KitTls) -> Iterator[WebKitPhone]:
    """One WebKit (MiniBrowser under Xvfb) for every WebKit test of the session, which
    accepts the kit's own certificate on 127.0.0.1 (WebKit pins it: see trust.py)."""
    pinned = [trust.PinnedCertificate(HOST, kit_tls.certificate)]
    with engines.webkit(
        tmp_path_factory.mktemp("webkit-home"), **PHONE, certificates=pinned
    ) as phone:
        yield phone


@pytest.fixture(params=["chromium", "webkit"])
def phone(request: pytest.FixtureRequest, served: ServedKit) -> Iterator[Phone]:
    """A fresh phone with no session, in each engine in turn."""
    if request.param == "chromium":
        context: BrowserContext = request.getfixturevalue("browser")
        context.clear_cookies()
        tab = context.new_page()
        try:
            yield ChromiumPhone(tab)
        finally:
            tab.close()
        return
    webkit: WebKitPhone = request.getfixturevalue("webkit")
    webkit.fresh(served.url)
    yield webkit


@pytest.fixture(scope="package")
def plain_films(served: ServedKit) -> Iterator[StaticFilms]:
    """The hour and the short film as the kit serves them, remade by ffmpeg into plain
    progressive MP4s (in memory only) and served statically: the anchor."""
    session = served.session()
    assert session.unlock() in (302, 303)
    films: dict[str, bytes] = {}
    for name, rec_id in (("hour", served.long_film_id), ("short", served.short_film_id)):
        status, _, body = session.request(f"/recordings/{rec_id}/film.mp4")
        assert status == 200, status
        films[name] = faststart(body)
    with serve_static(dict(films)) as static:
        yield static
