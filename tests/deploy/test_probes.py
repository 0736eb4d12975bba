"""Phones' connectivity probes get the answers the real probe servers give, with no
unlock and no session cookie, so a phone stays on the kit's Wi-Fi."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from web.kit.probes import APPLE_SUCCESS


@pytest.mark.parametrize(
    ("path", "status", "body", "mimetype"),
    [
        ("/generate_204", 204, "", None),
        ("/gen_204", 204, "", None),
        ("/hotspot-detect.html", 200, APPLE_SUCCESS, "text/html"),
        ("/library/test/success.html", 200, APPLE_SUCCESS, "text/html"),
        ("/connecttest.txt", 200, "Microsoft Connect Test", "text/plain"),
        ("/ncsi.txt", 200, "Microsoft NCSI", "text/plain"),
        ("/success.txt", 200, "success\n", "text/plain"),
        ("/check_network_status.txt", 200, "NetworkManager is online\n", "text/plain"),
    ],
)
def test_probe_answers_while_locked_without_a_cookie(
    client: FlaskClient, path: str, status: int, body: str, mimetype: str | None
) -> None:
    response = client.get(path, headers={"Host": "connectivitycheck.gstatic.com"})
    assert response.status_code == status
    assert response.get_data(as_text=True) == body
    if mimetype:
        assert response.mimetype == mimetype
    assert "Set-Cookie" not in response.headers
    assert client.get_cookie("vigkit") is None
    assert "Location" not in response.headers  # not sent to /unlock: that is a "portal"


def test_apple_success_page_is_exactly_apples() -> None:
    assert "<TITLE>Success</TITLE>" in APPLE_SUCCESS and "<BODY>Success</BODY>" in APPLE_SUCCESS


def test_probes_do_not_open_anything_else(client: FlaskClient) -> None:
    """Only the probe paths are public: the pages behind the unlock stay locked."""
    assert client.get("/settings").status_code == 302
    assert client.get("/generate_204/../recordings").status_code in (302, 404)
