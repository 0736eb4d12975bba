"""Answers to phones' "is there internet?" checks, so a phone stays on the kit's Wi-Fi.

On the kit's hotspot the probe hosts resolve to the kit (``scripts/setup-hotspot.sh``
writes them into dnsmasq). A phone whose check fails may leave the network or route the
page's requests to mobile data; answering as the real probe servers do keeps it joined.
These routes are public (no unlock), read and set no session, and show nothing of the kit.
"""

from __future__ import annotations

from flask import Blueprint
from werkzeug.wrappers import Response

bp = Blueprint("probes", __name__)

# What Apple's captive.apple.com serves; iOS and macOS look for exactly this.
APPLE_SUCCESS = "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>\n"

# Every probe endpoint, for PUBLIC_ENDPOINTS in web/kit/app.py.
ENDPOINTS = frozenset(
    {
        "probes.android",
        "probes.apple",
        "probes.windows_connecttest",
        "probes.windows_ncsi",
        "probes.firefox",
        "probes.gnome",
    }
)


def _text(body: str, mimetype: str = "text/plain") -> Response:
    return Response(body, 200, mimetype=mimetype)


@bp.get("/generate_204")
@bp.get("/gen_204")
def android() -> Response:
    """Android and ChromeOS: any answer but an empty 204 means "captive portal"."""
    return Response(status=204)


@bp.get("/hotspot-detect.html")
@bp.get("/library/test/success.html")
def apple() -> Response:
    return _text(APPLE_SUCCESS, "text/html")


@bp.get("/connecttest.txt")
def windows_connecttest() -> Response:
    return _text("Microsoft Connect Test")


@bp.get("/ncsi.txt")
def windows_ncsi() -> Response:
    return _text("Microsoft NCSI")


@bp.get("/success.txt")
def firefox() -> Response:
    return _text("success\n")


@bp.get("/check_network_status.txt")
def gnome() -> Response:
    return _text("NetworkManager is online\n")
