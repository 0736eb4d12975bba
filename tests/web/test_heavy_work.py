"""Heavy work yields to the recording (issue #15): a frame-exact clip asked for while the
kit records is queued — the page is told so in words — and made once the film is saved,
never while the camera needs the cores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from device.kit.assembly import Kit
from tests.web.web_helpers import FakeClock, csrf, make_kit, page_settings, unlock, wait_until
from web.kit import create_app


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[Kit]:
    kit = make_kit(tmp_path / "data")  # real time: a recording lasts as long as it says
    yield kit
    kit.close()


def _post(client: FlaskClient, token: str, path: str, body: Any) -> tuple[int, Any]:
    answer = client.post(
        path,
        data=json.dumps(body),
        headers={
            "Accept": "application/json",
            "Content-Type": "application/json",
            "X-CSRF-Token": token,
        },
    )
    return answer.status_code, answer.get_json()


def test_a_frame_exact_clip_asked_for_while_recording_is_made_after_it(kit: Kit) -> None:
    rec_id = kit.recorder.start(max_seconds=2)
    assert kit.recorder.wait(30)
    app = create_app(
        kit, settings=page_settings(), secret_key="t", clock=FakeClock(), thumbnails=False
    )
    try:
        client = app.test_client()
        assert unlock(client) == 302
        token = csrf(client, "/")
        clip = {"op": "add", "list": "clips", "item": {"in": 0.5, "out": 1.5}}
        status, answer = _post(client, token, f"/recordings/{rec_id}/notes", {"ops": [clip]})
        assert status == 200
        clip_id = answer["notes"]["clips"][-1]["id"]
        second = kit.recorder.start(max_seconds=4)

        status, answer = _post(
            client, token, f"/recordings/{rec_id}/clips/{clip_id}/export", {"exact": True}
        )

        assert status == 202, answer
        assert answer["message"] == "Your clip will be made when the recording ends."
        assert "file" not in answer["notes"]["clips"][-1]
        assert app.services.exports.queued(rec_id) == [clip_id]
        assert kit.recorder.wait(30)

        def made() -> bool:
            notes = client.get(f"/recordings/{rec_id}/notes").get_json()["notes"]
            return bool(notes["clips"][-1].get("file"))

        wait_until(made, 120, "the queued clip")
        events = [(r.event, r.recording) for r in kit.library.audit.rows()]
        stopped = events.index(("record stop", second))
        assert events.index(("export clip", rec_id)) > stopped  # made after, never during
        assert app.services.exports.queued(rec_id) == []
    finally:
        app.close()
