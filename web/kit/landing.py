"""Plain HTTP, when the page is served over HTTPS: a landing page and the CA certificate.

A phone that types ``vigkit.lan`` arrives over plain HTTP on port 80. There it gets only
this page — "open the kit securely" and, the first time on this phone, the organisation's
certificate to install — the certificate itself, and the phones' connectivity probes
(``web.kit.probes``). Nothing else answers over plain HTTP: no unlock form, no status, no
film, so neither the passphrase nor a film byte can cross the Wi-Fi in clear, and a
session cookie (``Secure``: the browser never sends it over HTTP) replayed on port 80 gets
this page too. Once a phone has opened the secure page, HSTS makes its browser go straight
to HTTPS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, current_app, render_template, request
from werkzeug.wrappers import Response

from web.kit import probes

bp = Blueprint("landing", __name__)

CERTIFICATE_NAME = "vigkit-ca.crt"
# what answers over plain HTTP (the static files: the landing page's own style sheet)
PLAIN_ENDPOINTS = probes.ENDPOINTS | {"landing.certificate", "static"}
ENDPOINTS = frozenset({"landing.certificate"})


@dataclass(frozen=True)
class SecurePage:
    """The page is served over HTTPS (``web.common.tls_front``) on ``https_port``; ``ca_der``
    is the organisation's CA certificate (DER), ``fingerprint`` its SHA-256 as shown;
    ``valid_until``: when the kit's own certificate ends (Settings shows it)."""

    https_port: int
    ca_der: bytes
    fingerprint: str
    valid_until: datetime | None = None


def secure_page() -> SecurePage | None:
    secure = current_app.config.get("VIGKIT_SECURE")
    return secure if isinstance(secure, SecurePage) else None


def plain_http_gate() -> Response | None:
    """A ``before_request``: over plain HTTP, every page but the few above is the landing."""
    secure = secure_page()
    if secure is None or request.is_secure or request.endpoint in PLAIN_ENDPOINTS:
        return None
    port = "" if secure.https_port == 443 else f":{secure.https_port}"
    name = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    return Response(
        render_template(
            "landing.html",
            secure_url=f"https://{name}{port}/",
            fingerprint=secure.fingerprint,
        ),
        200,
        mimetype="text/html",
    )


@bp.get(f"/{CERTIFICATE_NAME}")
def certificate() -> Response:
    """The organisation's CA certificate, for a phone to install once (DER: what both
    iPhone and Android take from a download)."""
    secure = secure_page()
    if secure is None:
        return Response("This kit's page is not served over HTTPS.\n", 404, mimetype="text/plain")
    return Response(
        secure.ca_der,
        200,
        mimetype="application/x-x509-ca-cert",
        headers={"Content-Disposition": f'attachment; filename="{CERTIFICATE_NAME}"'},
    )
