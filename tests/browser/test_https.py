"""Issue #17: the browser tests open the kit over HTTPS, and the browsers really check its
certificate. The session's phones trust it (tests/browser/trust.py): Chromium through the
kit's CA in its NSS database, WebKit through the kit's own certificate pinned for
127.0.0.1. Without that trust neither engine opens the page, so it is the trust, not a
switch that ignores certificate errors, that lets every other browser test in."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Error, Playwright

from tests.browser import engines, trust
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, HOST, PHONE, ServedKit
from tests.browser.engines import Phone


def test_both_engines_open_the_kit_over_https(phone: Phone, served: ServedKit) -> None:
    assert served.url.startswith("https://")
    phone.goto(served.url + "/unlock")
    seen = phone.run("() => [location.href, location.protocol, window.isSecureContext]")
    assert seen == [served.url + "/unlock", "https:", True]


def test_chromium_without_the_kits_ca_gets_a_certificate_error(
    playwright: Playwright, served: ServedKit, tmp_path: Path
) -> None:
    """The same Chromium, its NSS database without the kit's CA: the page is refused."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        env=trust.chromium_env(tmp_path, None),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
    )
    try:
        with pytest.raises(Error, match="net::ERR_CERT_AUTHORITY_INVALID"):
            context.new_page().goto(served.url + "/unlock")
    finally:
        context.close()


@pytest.mark.parametrize("pinned", ["nothing", "the CA"])
def test_webkit_without_the_kits_certificate_does_not_open_the_page(
    served: ServedKit, tmp_path: Path, pinned: str
) -> None:
    """WebKit given no certificate, or the kit's CA instead of the kit's own (a pin is
    for that very certificate, not a trust anchor): the page is not loaded."""
    certificates = [] if pinned == "nothing" else [trust.PinnedCertificate(HOST, served.tls.ca)]
    with engines.webkit(tmp_path, **PHONE, certificates=certificates) as phone:
        phone.goto(served.url + "/unlock")
        assert phone.run("() => location.href") == "about:blank"
