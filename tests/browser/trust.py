"""How each browser engine of the tests comes to trust the kit's TLS certificate: for real,
with no switch that turns certificate errors off (never ``ignore_https_errors``, never
``--ignore-certificate-errors``, never WebDriver's ``acceptInsecureCerts``).

What was found by trying it here (Debian 12: Chromium 156, WebKitGTK 2.50.6, NSS 3.87),
with a CA and a leaf for ``localhost`` and 127.0.0.1 made by ``cryptography`` and an
``ssl``-wrapped server sending the leaf and the CA:

Chromium (``chromium_env``) checks the server's chain against NSS's shared database,
which on Linux is ``$HOME/.pki/nssdb`` — not the profile folder Playwright is given. A
database made with ``certutil -d sql:DIR -N --empty-password`` holding the CA with trust
``C,,`` (a CA trusted to issue server certificates), and ``HOME`` pointing above it in the
launch's environment: the page loads (``isSecureContext`` true) and its ``<video>``
plays from the same origin. The same database without the CA: ``net::ERR_CERT_AUTHORITY_
INVALID``. So Chromium verifies the whole chain up to the kit's CA, as a phone does once
the CA is installed.

WebKitGTK has no trust store of its own to point at: glib-networking reads the system's
bundle, fixed when it was built. What WebKitWebDriver offers is the capability
``webkitgtk:browserOptions`` → ``certificates: [{"host": H, "certificateFile": PEM}]``
(the key is ``certificateFile``: ``certificate`` is refused as "Invalid alwaysMatch
capabilities"; Selenium's ``Options`` drops any such key, hence ``WebKitOptions``). WebKit
(``webkitAutomationSessionCreate``) hands each pair to
``webkit_web_context_allow_tls_certificate_for_host``: an exception for **that very
certificate** on that host, not a trust anchor. Tried: the CA's PEM → the page is not
loaded (WebDriver stays on ``about:blank``); the leaf → loads, ``<video>`` plays; the chain
file (leaf first, then the CA) → loads (GLib reads its first certificate); a leaf of
another CA → not loaded; the right leaf given for ``localhost`` while the page is
``127.0.0.1`` → not loaded. So WebKit is given the kit's chain file for the host the
tests open, and still refuses any other certificate: a pin, checked, not a bypass.

Playwright's own HTTP client (``page.request``) is Node.js in Playwright's driver, not the
browser: it trusts the CA through ``NODE_EXTRA_CA_CERTS``, set as the driver starts
(tests/browser/conftest.py); without it, "self-signed certificate in certificate chain".
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selenium.webdriver.webkitgtk.options import Options

CERTUTIL = "certutil"
CA_NICKNAME = "VIG Kit test CA"


def nss_database(home: Path) -> Path:
    """Where Chromium on Linux looks for the certificates a user trusts, under ``home``."""
    return home / ".pki" / "nssdb"


def chromium_env(home: Path, ca_file: Path | None) -> dict[str, str | float | bool]:
    """This process's environment with ``HOME`` at ``home``, whose NSS database trusts the
    CA in ``ca_file`` to issue server certificates (or, with ``None``, trusts nothing
    more than Chromium's built-in roots: the check that the trust is what lets a page in).
    Pass it as ``env`` to Playwright's ``launch_persistent_context``."""
    if shutil.which(CERTUTIL) is None:
        raise RuntimeError(
            "certutil is missing (Debian package libnss3-tools): run scripts/bootstrap.sh as root"
        )
    database = nss_database(home)
    database.mkdir(parents=True, exist_ok=True)
    _certutil("-d", f"sql:{database}", "-N", "--empty-password")
    if ca_file is not None:
        _certutil("-d", f"sql:{database}", "-A", "-t", "C,,", "-n", CA_NICKNAME, "-i", str(ca_file))
    env: dict[str, str | float | bool] = {**os.environ, "HOME": str(home)}
    return env  # typed as Playwright's ``env`` is


def _certutil(*args: str) -> None:
    done = subprocess.run([CERTUTIL, *args], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"certutil {' '.join(args)} failed: {done.stderr.strip()}")


@dataclass(frozen=True)
class PinnedCertificate:
    """A certificate WebKit accepts for one host (see the module's docstring: the leaf
    itself, or a chain file that starts with it — not the CA)."""

    host: str
    certificate_file: Path

    def capability(self) -> dict[str, str]:
        return {"host": self.host, "certificateFile": str(self.certificate_file)}


class WebKitOptions(Options):
    """Selenium's WebKitGTK options with the ``certificates`` its ``to_capabilities``
    would otherwise leave out (it rebuilds ``webkitgtk:browserOptions`` from scratch)."""

    def __init__(self, certificates: Sequence[PinnedCertificate] = ()) -> None:
        super().__init__()
        self.certificates = list(certificates)

    def to_capabilities(self) -> dict[str, Any]:
        caps: dict[str, Any] = super().to_capabilities()
        if self.certificates:
            caps[Options.KEY]["certificates"] = [c.capability() for c in self.certificates]
        return caps
