"""The page served over HTTPS: plain HTTP answers only the landing page, the CA
certificate and the phones' probes; cookies are ``Secure`` and HTTPS answers carry HSTS.

Issue #17, finding 1: over the hotspot's plain HTTP anyone who knew the Wi-Fi password
could read the unlock ``POST`` (the passphrase) and every film byte, and replay the unlock
cookie from another client. Here the app is asked as the TLS front asks it
(``wsgi.url_scheme`` is what ``X-Forwarded-Proto`` says; ``tests/web/test_tls_front.py``
checks the front sets it and nothing else can)."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from device.kit.assembly import Kit
from tests.web.web_helpers import PASSPHRASE, FakeClock, page_settings
from web.common.security import HSTS_MAX_AGE_S
from web.kit import KitApp, create_app
from web.kit.landing import CERTIFICATE_NAME, SecurePage

CA_DER = b"0\x82 the organisation's CA, as DER"
FINGERPRINT = "AB:CD:EF:01"
SECURE = "https://vigkit.lan"
PLAIN = "http://vigkit.lan"


@pytest.fixture
def app(kit: Kit, clock: FakeClock) -> Iterator[KitApp]:
    app = create_app(
        kit,
        settings=page_settings(),
        secret_key="test",
        idle_timeout_s=60,
        clock=clock,
        secure=SecurePage(443, CA_DER, FINGERPRINT),
    )
    yield app
    app.close()


def _unlock(client: FlaskClient) -> str:
    """Unlock over HTTPS as a phone does; the session cookie's Set-Cookie line."""
    page = client.get("/unlock", base_url=SECURE).get_data(as_text=True)
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    answer = client.post(
        "/unlock",
        data={"passphrase": PASSPHRASE, "csrf_token": token},
        base_url=SECURE,
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return answer.headers["Set-Cookie"]


def test_plain_http_gets_the_landing_page_with_the_secure_address(client: FlaskClient) -> None:
    for path in ("/", "/unlock", "/recordings", "/settings", "/no/such/page"):
        answer = client.get(path, base_url=PLAIN)
        page = answer.get_data(as_text=True)
        assert answer.status_code == 200, path
        assert 'href="https://vigkit.lan/"' in page, path
        assert "Open the kit securely" in page
        assert FINGERPRINT in page
        assert f'href="/{CERTIFICATE_NAME}"' in page
        assert 'name="passphrase"' not in page  # no form to type the passphrase into
        assert "Set-Cookie" not in answer.headers
        assert "Strict-Transport-Security" not in answer.headers


def test_the_landing_page_names_the_https_port_when_it_is_not_443(
    kit: Kit, clock: FakeClock
) -> None:
    app = create_app(
        kit, settings=page_settings(), clock=clock, secure=SecurePage(8443, CA_DER, FINGERPRINT)
    )
    try:
        page = app.test_client().get("/", base_url="http://127.0.0.1:8080").get_data(as_text=True)
        assert 'href="https://127.0.0.1:8443/"' in page
    finally:
        app.close()


def test_the_passphrase_posted_over_plain_http_unlocks_nothing(client: FlaskClient) -> None:
    answer = client.post("/unlock", data={"passphrase": PASSPHRASE}, base_url=PLAIN)
    assert answer.status_code == 200
    assert "Open the kit securely" in answer.get_data(as_text=True)
    assert "Set-Cookie" not in answer.headers
    # and the kit is still locked for this client over HTTPS too
    assert client.get("/recordings", base_url=SECURE).status_code == 302


def test_the_unlock_cookie_is_secure_and_useless_over_plain_http(
    client: FlaskClient, kit: Kit
) -> None:
    cookie = _unlock(client)
    assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    secure = client.get("/recordings", base_url=SECURE)
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"] == f"max-age={HSTS_MAX_AGE_S}"
    # the cookie replayed over plain HTTP (the attack of finding 1): the landing page only
    name, value = cookie.split(";", 1)[0].split("=", 1)
    plain = FlaskClient(client.application)
    plain.set_cookie(name, value, domain="vigkit.lan")
    for path in ("/recordings", "/status", "/settings"):
        answer = plain.get(path, base_url=PLAIN, headers={"Range": "bytes=0-65535"})
        assert answer.status_code == 200, path
        assert "Open the kit securely" in answer.get_data(as_text=True), path
    # the same cookie over HTTPS is still this phone's session (so the test above is fair)
    assert plain.get("/recordings", base_url=SECURE).status_code == 200


def test_the_ca_certificate_and_the_probes_answer_over_plain_http(client: FlaskClient) -> None:
    answer = client.get(f"/{CERTIFICATE_NAME}", base_url=PLAIN)
    assert answer.status_code == 200
    assert answer.data == CA_DER
    assert answer.mimetype == "application/x-x509-ca-cert"
    assert "attachment" in answer.headers["Content-Disposition"]
    assert (
        client.get("/generate_204", base_url="http://connectivitycheck.gstatic.com").status_code
        == 204
    )
    apple = client.get("/hotspot-detect.html", base_url="http://captive.apple.com")
    assert "Success" in apple.get_data(as_text=True)


def test_a_page_served_in_clear_has_no_landing_and_no_secure_cookie(
    kit: Kit, clock: FakeClock
) -> None:
    """``https = false`` (a development machine): the page as before, and no CA to offer."""
    app = create_app(kit, settings=page_settings(), clock=clock)
    try:
        client = app.test_client()
        assert "Passphrase" in client.get("/unlock", base_url=PLAIN).get_data(as_text=True)
        assert client.get(f"/{CERTIFICATE_NAME}", base_url=PLAIN).status_code == 404
        assert "Strict-Transport-Security" not in client.get("/unlock").headers
    finally:
        app.close()


@pytest.mark.parametrize(
    ("days_left", "words", "warned"),
    [
        (400, "Secure page: the kit's certificate is valid until", False),
        (10, "ask the office for a new one before then", True),
        (-2, "phones warn before they open this page", True),
    ],
)
def test_settings_says_when_the_kits_certificate_ends(
    kit: Kit, clock: FakeClock, days_left: int, words: str, warned: bool
) -> None:
    ends = datetime.now(UTC) + timedelta(days=days_left)
    app = create_app(
        kit,
        settings=page_settings(),
        secret_key="test",
        clock=clock,
        secure=SecurePage(443, CA_DER, FINGERPRINT, ends),
    )
    try:
        client = app.test_client()
        _unlock(client)
        page = client.get("/settings", base_url=SECURE).get_data(as_text=True)
        line = next(x for x in page.splitlines() if "data-certificate" in x)
        assert words in html.unescape(line) and ends.strftime("%-d %B %Y") in line, line
        assert ('class="problem"' in line) == warned
    finally:
        app.close()
