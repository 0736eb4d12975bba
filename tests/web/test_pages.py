"""The phone page as a browser sees it: unlock, record, list, play, lock, and refusals."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from device.kit.assembly import Kit
from device.library import State
from tests.media.media_helpers import ffprobe
from tests.recording.conftest import wait_for
from tests.web.web_helpers import FakeClock, csrf, unlock
from web.common.security import CSP
from web.kit import KitApp
from web.kit.services import KitServices

EXTERNAL_URL = re.compile(r"""(?:https?:)?//[a-z0-9.-]+""", re.I)


def _services(client: FlaskClient) -> KitServices:
    app = client.application
    assert isinstance(app, KitApp)
    return app.services


def _check_html(response_text: str, headers: dict[str, str]) -> None:
    assert headers["Content-Security-Policy"] == CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert not EXTERNAL_URL.search(response_text), EXTERNAL_URL.search(response_text)
    assert "<script>" not in response_text  # no inline script: only the module file


def test_locked_pages_send_you_to_unlock(client: FlaskClient) -> None:
    for path in ("/", "/recordings?case=F-0231"):
        response = client.get(path)
        assert response.status_code == 302
        where = urlsplit(response.headers["Location"])
        assert where.path == "/unlock"
        # and back there once unlocked (Home is where an unlock goes anyway)
        assert parse_qs(where.query).get("next", ["/"]) == [path]
    page = client.get("/unlock")
    text = page.get_data(as_text=True)
    assert "Unlock" in text and "encrypted" in text and "Locked" in text
    _check_html(text, dict(page.headers))


def test_locked_json_and_media_are_401(client: FlaskClient) -> None:
    for path in ("/preview.jpg", "/recordings/20260101T000000Z-abcd/film.mp4"):
        response = client.get(path)
        assert response.status_code == 401
        assert "locked" in response.get_data(as_text=True)
    assert client.get("/", headers={"Accept": "application/json"}).status_code == 401


def test_status_is_json_even_when_locked(client: FlaskClient) -> None:
    body = client.get("/status").get_json()
    assert body["state"] == "locked"  # and nothing more (tests/security/test_room_hidden.py)
    assert body["elapsed_s"] is None


def test_wrong_passphrase_then_backoff_then_right(client: FlaskClient, clock: FakeClock) -> None:
    response = client.post(
        "/unlock", data={"passphrase": "not the passphrase", "csrf_token": csrf(client)}
    )
    assert response.status_code == 401
    assert "did not open the kit" in response.get_data(as_text=True)
    # the right one typed at once after the typo is let in once the back-off (1 s) is over
    started = time.monotonic()
    assert unlock(client) == 302
    assert 0.9 < time.monotonic() - started < 5
    assert client.get("/").status_code == 200


def test_backoff_doubles(client: FlaskClient, clock: FakeClock) -> None:
    for wait in (1, 2, 4):
        assert unlock(client, "wrong passphrase here") == 401
        clock.now += wait + 0.1
    assert unlock(client, "wrong passphrase here") == 401
    assert unlock(client) == 429  # 8 s: too long to wait out, so refused in words
    clock.now += 7.95
    assert unlock(client) == 302  # the last 0.05 s waited out


def test_post_without_csrf_is_refused(unlocked: FlaskClient, kit: Kit) -> None:
    for headers in ({}, {"X-CSRF-Token": "forged"}):
        response = unlocked.post("/record", data={"action": "start"}, headers=headers)
        assert response.status_code == 400
        assert "did not act on it" in response.get_data(as_text=True)
        assert "Traceback" not in response.get_data(as_text=True)
    assert kit.recorder.status.state == "idle"
    assert unlocked.post("/unlock", data={"passphrase": "x"}).status_code == 400


def test_record_list_and_play(unlocked: FlaskClient, kit: Kit) -> None:
    token = csrf(unlocked, "/")
    started = unlocked.post(
        "/record",
        data={"action": "start"},
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
    assert started.get_json()["state"] == "recording"
    # a Stop within two seconds of the start (a double tap) is asked once more
    too_soon = unlocked.post("/record", data={"action": "stop", "csrf_token": token})
    assert too_soon.status_code == 409
    assert "less than two seconds ago" in too_soon.get_data(as_text=True)
    assert kit.recorder.status.state == "recording"
    time.sleep(2.5)
    assert unlocked.get("/status").get_json()["elapsed_s"] >= 2
    assert "Stop" in unlocked.get("/").get_data(as_text=True)
    stopped = unlocked.post("/record", data={"action": "stop", "csrf_token": token})
    assert stopped.status_code == 303
    assert kit.recorder.wait(30)

    (row,) = kit.library.index.all()
    saved = unlocked.get("/status").get_json()["saved"]
    words = f"Saved · 0:0{int(row.duration_s)} · Case F-0231, cycle 1"
    assert saved == {"words": words, "url": f"/recordings/{row.id}"}
    with unlocked.application.test_client() as locked:  # no case code for a locked phone
        assert locked.get("/status").get_json()["saved"] is None
    listing = unlocked.get("/recordings")
    text = listing.get_data(as_text=True)
    assert f"/recordings/{row.id}" in text
    _check_html(text, dict(listing.headers))
    film_page = unlocked.get(f"/recordings/{row.id}").get_data(as_text=True)
    assert f'src="/recordings/{row.id}/film.mp4"' in film_page

    url = f"/recordings/{row.id}/film.mp4"
    probe = unlocked.get(url, headers={"Range": "bytes=0-1"})
    assert probe.status_code == 206
    assert probe.headers["Accept-Ranges"] == "bytes"
    assert probe.headers["Content-Length"] == "2"
    assert probe.headers["Cache-Control"] == "no-store"
    probe.close()
    whole = unlocked.get(url)
    data = whole.get_data()
    whole.close()
    assert whole.headers["Content-Type"] == "video/mp4"
    # an open range is answered to the end: a short answer breaks WebKit's next seek
    rest = unlocked.get(url, headers={"Range": "bytes=1000-"})
    assert rest.headers["Content-Range"] == f"bytes 1000-{len(data) - 1}/{len(data)}"
    assert rest.get_data() == data[1000:]
    rest.close()
    duration = float(ffprobe(data, "-show_format")["format"]["duration"])
    assert row.duration_s > 2
    assert duration == pytest.approx(row.duration_s, abs=0.1)

    # as if the power had been cut: the next unlock seals the film and it plays again
    kit.library.index.update(row.id, state=State.INTERRUPTED)
    assert "Interrupted" in unlocked.get("/recordings").get_data(as_text=True)
    assert unlocked.get(url).status_code == 409
    assert unlocked.post("/lock", data={"csrf_token": token}).status_code == 302
    assert unlock(unlocked) == 302  # the seal runs in the background, not in the unlock
    wait_for(lambda: kit.library.index.get(row.id).state == State.RECOVERED)
    assert "Interrupted, recovered" in unlocked.get("/recordings").get_data(as_text=True)
    assert unlocked.get(url, headers={"Range": "bytes=0-1"}).status_code == 206


def test_preview_is_a_jpeg_from_memory(unlocked: FlaskClient, kit: Kit) -> None:
    deadline = time.monotonic() + 10
    while kit.camera.preview_jpeg() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    response = unlocked.get("/preview.jpg")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_data()[:2] == b"\xff\xd8"


@pytest.mark.parametrize(
    "path",
    [
        "/recordings/../etc/passwd",
        "/recordings/..%2Fetc%2Fpasswd",
        "/recordings/%2e%2e%2fetc%2fpasswd/film.mp4",
        "/recordings/20260101T000000Z-abcd%00",
        "/recordings/20260101T000000Z-abcd%00/film.mp4",
        "/recordings/" + "a" * 5000,
        "/recordings/" + "a" * 5000 + "/film.mp4",
        "/recordings/20260101T000000Z-abcd",  # well formed, but no such film
        "/recordings/20260101T000000Z-abcd/film.mp4",
        "/nothing-here",
    ],
)
def test_hostile_or_unknown_ids_are_a_plain_404(unlocked: FlaskClient, path: str) -> None:
    response = unlocked.get(path)
    text = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Traceback" not in text and "passwd" not in text and "aaaa" not in text
    assert "no such recording" in text or "nothing here" in text
    _check_html(text, dict(response.headers))


def test_wrong_method_and_big_body_are_friendly(unlocked: FlaskClient) -> None:
    assert unlocked.get("/record").status_code == 405
    big = unlocked.post("/lock", data={"csrf_token": "x" * 100_000})
    assert big.status_code == 413
    assert "more than this page accepts" in big.get_data(as_text=True)


def test_lock_forgets_the_identity(unlocked: FlaskClient, app: object) -> None:
    token = csrf(unlocked, "/")
    assert unlocked.post("/lock", data={"csrf_token": token}).status_code == 302
    assert unlocked.get("/").status_code == 302
    ring = _services(unlocked).keyring
    assert not ring.is_unlocked
    assert ring._unlock is None


def test_idle_timeout_forgets_the_identity(unlocked: FlaskClient, clock: FakeClock) -> None:
    clock.now += 59
    assert unlocked.get("/").status_code == 200  # activity: the timer starts again
    clock.now += 59
    unlocked.get("/status")  # polling is not activity
    clock.now += 2
    assert unlocked.get("/").status_code == 302
    assert not _services(unlocked).keyring.is_unlocked


def test_every_page_has_the_headers(unlocked: FlaskClient) -> None:
    for path in ("/", "/recordings"):
        response = unlocked.get(path)
        assert response.status_code == 200
        _check_html(response.get_data(as_text=True), dict(response.headers))
        assert response.headers["Cache-Control"] == "no-store"
    cookie = unlocked.get_cookie("vigkit")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"


def test_the_page_is_wired_by_type_not_by_string_keys(app: KitApp) -> None:
    assert not [key for key in app.extensions if key.startswith("vigkit")]
