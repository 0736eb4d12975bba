"""The Settings page over a synthetic kit: kit name, the second phone's Wi-Fi (its join QR
code only when asked for), the clock check and setting (with a fake setter), storage
left, the lock timeout."""

from __future__ import annotations

import time

from flask.testing import FlaskClient

from device.kit.assembly import Kit
from device.kit.wall_clock import ClockBook, ClockError, start_time
from tests.deploy.conftest import WIFI_NAME, WIFI_PASSWORD, FakeSetter, settings_app
from tests.web.web_helpers import csrf, unlock
from web.common.security import CSP
from web.kit import PageSettings

HOUR_MS = 3_600_000


def test_locked_settings_send_you_to_unlock(client: FlaskClient) -> None:
    response = client.get("/settings")
    assert response.status_code == 302  # and back to Settings once unlocked
    assert response.headers["Location"].endswith("/unlock?next=/settings")
    assert client.get("/settings/clock?phone_ms=1").status_code == 401


def test_the_page_shows_the_kit_wifi_storage_and_lock(unlocked: FlaskClient, kit: Kit) -> None:
    response = unlocked.get("/settings")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == CSP
    assert "<script>" not in text and "style=" not in text  # CSP: no inline script or style
    assert "/static/js/settings.js" in text
    assert "<svg" not in text and 'class="qr"' not in text  # no join code unless asked
    assert 'href="/settings?wifi=qr#wifi-heading">Show a join code to scan</a>' in text
    assert "Kit; &#34;A&#34;:b\\" in text  # escaped as text, shown whole
    assert "p@ss;w,rd:&#34;x&#34;\\y" in text
    minutes = kit.recorder.minutes_left()
    space = f"about {int(minutes // 60)} hours" if minutes >= 120 else f"{int(minutes)} minutes"
    assert f"Space left: <strong>{space}</strong>" in text
    assert "after <strong>15 minutes</strong>" in text
    assert "open <strong>vigkit.lan</strong>" in text  # to type; the page is HTTPS
    assert "https://vigkit.lan/" in text and "http://" not in text.replace("http://www.w3", "")


def test_the_wifi_join_code_is_drawn_only_when_asked_for(unlocked: FlaskClient) -> None:
    asked = unlocked.get("/settings?wifi=qr").get_data(as_text=True)
    assert "<svg" in asked and 'class="qr"' in asked  # the join code, inline
    assert 'href="/settings#wifi-heading">Hide the join code</a>' in asked
    for other in ("/settings?wifi=yes", "/settings?saved=principles"):
        assert 'class="qr"' not in unlocked.get(other).get_data(as_text=True)


def test_clock_check_says_when_the_kit_is_wrong(unlocked: FlaskClient) -> None:
    now_ms = int(time.time() * 1000)
    near = unlocked.get(f"/settings/clock?phone_ms={now_ms + 20_000}").get_json()
    assert near["needs_setting"] is False and 19 < near["offset_s"] < 21
    far = unlocked.get(f"/settings/clock?phone_ms={now_ms + 2 * HOUR_MS}").get_json()
    assert far["needs_setting"] is True and far["offset_s"] > 7100
    assert unlocked.get("/settings/clock?phone_ms=soon").status_code == 400
    assert unlocked.get("/settings/clock?phone_ms=nan").status_code == 400
    assert unlocked.get("/settings/clock?phone_ms=0").status_code == 400  # 1970: a broken phone


def test_setting_the_clock_from_the_phone_is_recorded_and_corrects_films(
    unlocked: FlaskClient, kit: Kit, setter: FakeSetter
) -> None:
    rec_id = kit.recorder.start(max_seconds=0.5)
    kit.recorder.wait(30)
    token = csrf(unlocked, "/settings")
    phone_ms = int(time.time() * 1000) + 2 * HOUR_MS
    response = unlocked.post(
        "/settings/clock",
        data={"phone_ms": str(phone_ms)},
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["set"] is True
    assert len(setter.calls) == 1
    assert abs(setter.calls[0].timestamp() * 1000 - phone_ms) < 1
    events = [r for r in kit.library.audit.rows() if r.event == "clock set"]
    assert len(events) == 1 and 7190 < events[0].detail["offset_s"] < 7210
    assert kit.library.audit.verify() == []
    # The film made before the correction now shows the corrected start.
    row = kit.library.index.get(rec_id)
    corrections = ClockBook(kit.library.data).load()
    recorded = start_time(row, [])
    shown = start_time(row, corrections)
    assert 7190 < (shown - recorded).total_seconds() < 7210


def test_a_clock_within_a_minute_is_left_alone(unlocked: FlaskClient, setter: FakeSetter) -> None:
    token = csrf(unlocked, "/settings")
    response = unlocked.post(
        "/settings/clock",
        data={"phone_ms": str(int(time.time() * 1000) + 30_000), "csrf_token": token},
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/settings")
    assert setter.calls == []


def test_a_refused_clock_set_says_what_to_do(unlocked: FlaskClient, setter: FakeSetter) -> None:
    setter.fail = ClockError("the kit is not allowed to set its clock", hint="Run install.sh.")
    token = csrf(unlocked, "/settings")
    response = unlocked.post(
        "/settings/clock",
        data={"phone_ms": str(int(time.time() * 1000) + 2 * HOUR_MS)},
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
    assert response.status_code == 409
    assert response.get_json() == {
        "error": "The kit is not allowed to set its clock.",
        "hint": "Run install.sh.",
    }


def test_setting_the_clock_needs_the_csrf_token(unlocked: FlaskClient, setter: FakeSetter) -> None:
    phone = str(int(time.time() * 1000) + 2 * HOUR_MS)
    response = unlocked.post("/settings/clock", data={"phone_ms": phone})
    assert response.status_code == 400
    assert setter.calls == []


def test_the_wifi_details_can_be_missing(kit: Kit, setter: FakeSetter) -> None:
    app = settings_app(kit, PageSettings(set_clock=setter))
    try:
        with app.test_client() as client:
            assert unlock(client) == 302
            text = client.get("/settings").get_data(as_text=True)
    finally:
        app.close()
    assert "<svg" not in text and "label on the kit" in text
    assert WIFI_NAME not in text and WIFI_PASSWORD not in text
