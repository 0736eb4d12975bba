"""Hashed static URLs, the microphone level in /status, and the thumbnail timeline."""

from __future__ import annotations

import math
import re
import time

import pytest
from flask.testing import FlaskClient

from device.kit.assembly import Kit
from tests.web.web_helpers import csrf, wait_until
from web.common.assets import CACHE_CHECK, CACHE_FOREVER
from web.kit import KitApp
from web.kit.services import KitServices
from web.kit.status import level_dbfs


def _services(client: FlaskClient) -> KitServices:
    app = client.application
    assert isinstance(app, KitApp)
    return app.services


def test_static_urls_carry_a_content_hash(client: FlaskClient) -> None:
    page = client.get("/unlock").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert len(urls) >= 3  # the style sheet, the icon, the status script
    for url in urls:
        assert re.search(r"\?v=[0-9a-f]{12}$", url), url
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == CACHE_FOREVER
        response.close()
    stale = client.get("/static/app.css?v=000000000000")
    assert stale.headers["Cache-Control"] == CACHE_CHECK
    stale.close()
    bare = client.get("/static/app.css")
    assert bare.headers["Cache-Control"] == CACHE_CHECK
    bare.close()
    assert client.get("/static/nothing.js").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("level", "shown"),
    [(None, None), (-math.inf, -90.0), (math.nan, -90.0), (-12.34, -12.3), (3.0, 0.0)],
)
def test_level_for_the_meter_is_valid_json(level: float | None, shown: float | None) -> None:
    assert level_dbfs(level) == shown


def test_status_carries_the_microphone_level(unlocked: FlaskClient) -> None:
    client = unlocked  # a locked browser is told nothing of the room (tests/security)
    body = client.get("/status").get_json()  # JSON parses: no -Infinity
    assert body["level_dbfs"] is None or -90 <= body["level_dbfs"] <= 0
    wait_until(
        lambda: (client.get("/status").get_json()["level_dbfs"] or -90) > -60,
        10,
        "the synthetic microphone's tone",
    )


def test_thumbnails_are_made_after_unlock_and_served_from_memory(
    unlocked: FlaskClient, kit: Kit
) -> None:
    token = csrf(unlocked, "/")
    unlocked.post("/record", data={"action": "start", "csrf_token": token})
    wait_until(lambda: kit.recorder.status.state == "recording", 10)
    wait_until(lambda: kit.recorder.status.started_us is not None, 10)
    time.sleep(4.5)  # a film of a few seconds: more than one thumbnail
    unlocked.post("/record", data={"action": "stop", "csrf_token": token})
    assert kit.recorder.wait(30)
    (row,) = kit.library.index.all()
    stored = kit.library.data.derived(row.id, "thumbs")
    wait_until(stored.exists, 60, "thumbnails")
    assert b"\xff\xd8\xff" not in stored.read_bytes()  # encrypted at rest

    page = unlocked.get(f"/recordings/{row.id}").get_data(as_text=True)
    times = [float(t) for t in re.findall(r'data-t="([0-9.]+)"', page)]
    assert times[0] == 0 and len(times) >= 2 and times == sorted(times)
    # the player shows the first picture before Play (Chromium may draw no frame till then)
    assert f'poster="/recordings/{row.id}/thumbs/0.jpg"' in page
    picture = unlocked.get(f"/recordings/{row.id}/thumbs/1.jpg")
    assert picture.status_code == 200
    assert picture.headers["Content-Type"] == "image/jpeg"
    assert picture.headers["Cache-Control"] == "no-store"
    assert picture.get_data()[:3] == b"\xff\xd8\xff"
    assert unlocked.get(f"/recordings/{row.id}/thumbs/{len(times)}.jpg").status_code == 404

    assert unlocked.post("/lock", data={"csrf_token": token}).status_code == 302
    assert unlocked.get(f"/recordings/{row.id}/thumbs/1.jpg").status_code == 401
    assert _services(unlocked).thumbnailer._cache is None


def test_no_thumbnails_yet_says_so(unlocked: FlaskClient, kit: Kit) -> None:
    kit.recorder.start(max_seconds=1.5)
    assert kit.recorder.wait(30)
    (row,) = kit.library.index.all()
    thumbnailer = _services(unlocked).thumbnailer
    thumbnailer.close()  # nothing is made in the background in this test
    kit.library.data.derived(row.id, "thumbs").unlink(missing_ok=True)
    page = unlocked.get(f"/recordings/{row.id}").get_data(as_text=True)
    assert "appear here once the kit has made them" in page


def test_a_film_erased_while_its_thumbnails_are_made_leaves_none_behind(
    unlocked: FlaskClient, kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    from device.cases.erase import erase_recordings
    from web.kit import thumbnailer as module

    kit.recorder.start(max_seconds=1.5)
    assert kit.recorder.wait(30)
    (row,) = kit.library.index.all()
    thumbnailer = _services(unlocked).thumbnailer
    thumbnailer.close()  # this test drives one run by hand
    kit.library.data.derived(row.id, "thumbs").unlink(missing_ok=True)
    real = module.make_thumbnails

    def erased_meanwhile(*args: object, **kwargs: object) -> object:
        made = real(*args, **kwargs)  # type: ignore[arg-type]
        erase_recordings(kit.library, [row.id], why="consent withdrawn")
        return made

    monkeypatch.setattr(module, "make_thumbnails", erased_meanwhile)
    assert thumbnailer._make_one()
    assert not list(kit.library.data.recordings.glob(f"{row.id}.*"))
