"""One small "phone" the playback tests drive in either browser engine.

Chromium runs through Playwright (Debian's ``chromium``, as the other browser tests);
WebKit is WebKitGTK's ``MiniBrowser`` driven over WebDriver by Debian's
``WebKitWebDriver`` (Playwright can only drive its own WebKit build, which cannot be
downloaded here), under an Xvfb display this module starts: WebKitGTK 2.50's MiniBrowser
has no headless mode, only ``--automation``.

Both sides offer the same few verbs: go to a URL, unlock the kit, run a JavaScript
function (which may return a promise) with arguments, and wait for a JavaScript
predicate. Tests written against ``Phone`` read the same in both engines.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from playwright.sync_api import Page
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.webkitgtk.service import Service

from tests.browser.trust import PinnedCertificate, WebKitOptions
from tests.web.web_helpers import PASSPHRASE

WEBKIT_DRIVER = "/usr/bin/WebKitWebDriver"
MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
# MiniBrowser's toolbar sits above the page: the window is this much taller than the page
WEBKIT_TOOLBAR_PX = 38
TIMEOUT_S = 30.0

# Selenium runs a script body, not a function: call the function with the arguments and
# hand back its (awaited) result, or the error's text, to the async-script callback.
_CALL = """
const done = arguments[arguments.length - 1];
const args = Array.prototype.slice.call(arguments, 0, -1);
Promise.resolve().then(() => (%s)(...args)).then(
  value => done({ ok: value === undefined ? null : value }),
  error => done({ error: String(error && error.stack || error) }));
"""


class Phone:
    """What a playback test asks of a browser; see ``ChromiumPhone`` and ``WebKitPhone``."""

    engine = ""

    def goto(self, url: str) -> None:
        raise NotImplementedError

    def run(self, function: str, *args: Any, timeout_s: float = TIMEOUT_S) -> Any:
        """Call the JavaScript ``function`` with ``args`` in the page; its awaited result."""
        raise NotImplementedError

    def unlock(self, base: str, passphrase: str = PASSPHRASE) -> None:
        raise NotImplementedError

    def wait_for(self, predicate: str, *args: Any, timeout_s: float = TIMEOUT_S) -> Any:
        """Poll ``predicate(...args)`` in the page until it is truthy; that value."""
        deadline = time.monotonic() + timeout_s
        while True:
            value = self.run(predicate, *args)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.engine}: still false after {timeout_s} s: {predicate}")
            time.sleep(0.05)


class ChromiumPhone(Phone):
    engine = "chromium"

    def __init__(self, page: Page) -> None:
        self.page = page

    def goto(self, url: str) -> None:
        self.page.goto(url)

    def run(self, function: str, *args: Any, timeout_s: float = TIMEOUT_S) -> Any:
        # Playwright awaits a returned promise but never times out an evaluation
        ms = timeout_s * 1000
        late = f"new Promise((_, no) => setTimeout(() => no(new Error('timed out')), {ms}))"
        return self.page.evaluate(
            f"args => Promise.race([({function})(...args), {late}])", list(args)
        )

    def unlock(self, base: str, passphrase: str = PASSPHRASE) -> None:
        self.page.goto(base + "/")
        self.page.get_by_label("Passphrase").fill(passphrase)
        self.page.get_by_role("button", name="Unlock").click()
        self.page.wait_for_url(base + "/")


class WebKitPhone(Phone):
    engine = "webkit"

    def __init__(self, driver: webdriver.WebKitGTK) -> None:
        self.driver = driver

    def goto(self, url: str) -> None:
        self.driver.get(url)

    def run(self, function: str, *args: Any, timeout_s: float = TIMEOUT_S) -> Any:
        self.driver.set_script_timeout(timeout_s)
        answer = self.driver.execute_async_script(_CALL % function, *args)
        if "error" in answer:
            raise RuntimeError(f"webkit: {answer['error']}")
        return answer["ok"]

    def unlock(self, base: str, passphrase: str = PASSPHRASE) -> None:
        self.driver.get(base + "/")
        self.driver.find_element(By.ID, "passphrase").send_keys(passphrase)
        self.driver.find_element(By.CSS_SELECTOR, "form.unlock button[type=submit]").click()
        self.wait_for("() => location.pathname === '/' && document.readyState === 'complete'")

    def fresh(self, site: str) -> None:
        """No session with ``site`` and no page, as a new tab would start. (WebDriver
        deletes only the cookies of the page it is on, so it visits the site first.)"""
        self.driver.get(site + "/status")
        self.driver.delete_all_cookies()
        self.driver.get("about:blank")


@contextlib.contextmanager
def xvfb() -> Iterator[str]:
    """A private X display (``:N``), its number chosen by Xvfb itself."""
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        pass_fds=[write],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as answer:
            number = answer.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not start (is the xvfb package installed?)")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(10)


@contextlib.contextmanager
def webkit(
    home: Path, width: int, height: int, certificates: Sequence[PinnedCertificate] = ()
) -> Iterator[WebKitPhone]:
    """MiniBrowser under its own Xvfb, driven over WebDriver, its page ``width`` x
    ``height`` as near as the window allows (see ``WEBKIT_TOOLBAR_PX``), accepting the
    ``certificates`` for their hosts (tests/browser/trust.py). Everything it keeps
    (caches, GStreamer's registry) goes under ``home``, so the suite's plaintext check
    searches it."""
    for tool in (WEBKIT_DRIVER, MINIBROWSER):
        if not os.access(tool, os.X_OK):
            raise RuntimeError(f"{tool} is missing: run scripts/bootstrap.sh as root")
    home.mkdir(parents=True, exist_ok=True)
    with xvfb() as display:
        env = {
            **os.environ,
            "DISPLAY": display,
            "HOME": str(home),
            "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_CONFIG_HOME": str(home / "config"),
        }
        options = WebKitOptions(certificates)
        options.binary_location = MINIBROWSER
        options.add_argument("--automation")
        service = Service(WEBKIT_DRIVER, env=env, log_output=str(home / "webdriver.log"))
        with warnings.catch_warnings():
            # Selenium 4.51's own WebKitGTK driver passes the argument it deprecates
            warnings.filterwarnings("ignore", "setting remote_server_addr", DeprecationWarning)
            driver = webdriver.WebKitGTK(options=options, service=service)
        try:
            driver.set_window_size(width, height + WEBKIT_TOOLBAR_PX)
            yield WebKitPhone(driver)
        finally:
            driver.quit()
