"""What the film page warns about. Each sidecar fails alone (finding 6): a damaged
notes, thumbnails or fragment index file is set aside as ``<name>.damaged`` and the film
stays watchable, never a 500.

Files are damaged the way a power cut leaves them: cut in half. Frames the camera
skipped under load are shown with the film (finding 10).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from device.kit.assembly import Kit
from device.library.thumbs import load_thumbnails
from tests.media.media_helpers import ffprobe
from tests.web.web_helpers import FakeClock, csrf, make_kit, page_settings, unlock, wait_until
from web.kit import KitApp, create_app

FILM_S = 3
SENTENCE = "The notes of this film could not be read (the file is damaged). The film is safe"


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kit, str]]:
    kit = make_kit(tmp_path_factory.mktemp("damaged") / "data", fast=True)
    rec_id = kit.recorder.start(max_seconds=FILM_S)
    assert kit.recorder.wait(60)
    yield kit, rec_id
    kit.close()


def _client(kit: Kit, *, thumbnails: bool = False) -> tuple[KitApp, FlaskClient]:
    app = create_app(
        kit,
        settings=page_settings(),
        secret_key="damaged",
        idle_timeout_s=60,
        clock=FakeClock(),
        thumbnails=thumbnails,
    )
    client = app.test_client()
    assert unlock(client) == 302
    return app, client


def _cut_in_half(path: Path) -> bytes:
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    return whole[: len(whole) // 2]


def _plays(client: FlaskClient, rec_id: str) -> None:
    url = f"/recordings/{rec_id}/film.mp4"
    probe = client.get(url, headers={"Range": "bytes=0-1"})
    assert probe.status_code == 206
    probe.close()
    whole = client.get(url)
    data = whole.get_data()
    whole.close()
    assert float(ffprobe(data, "-show_format")["format"]["duration"]) > FILM_S - 1


def _save_notes(client: FlaskClient, rec_id: str, code: str) -> dict[str, object]:
    response = client.post(
        f"/recordings/{rec_id}/notes",
        data=json.dumps({"ops": [{"op": "set", "field": "case.code", "value": code}]}),
        headers={
            "Accept": "application/json",
            "Content-Type": "application/json",
            "X-CSRF-Token": csrf(client, "/"),
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    notes: dict[str, object] = response.get_json()["notes"]
    return notes


def test_half_a_notes_file_leaves_the_film_usable(film: tuple[Kit, str]) -> None:
    kit, rec_id = film
    app, client = _client(kit)
    try:
        _save_notes(client, rec_id, "F-0001")
        notes = kit.library.data.derived(rec_id, "notes")
        half = _cut_in_half(notes)

        page = client.get(f"/recordings/{rec_id}")
        text = page.get_data(as_text=True)
        assert page.status_code == 200, text
        assert SENTENCE in text
        assert f"kept on the kit as {notes.name}.damaged for the office" in text
        assert (notes.parent / f"{notes.name}.damaged").read_bytes() == half  # never deleted
        _plays(client, rec_id)
        assert client.get("/recordings").status_code == 200

        saved = _save_notes(client, rec_id, "F-0002")  # a new notes file
        assert saved["case"] == {**saved["case"], "code": "F-0002"}  # type: ignore[dict-item]
        assert notes.exists()
        assert kit.library.data.recordings.joinpath(f"{notes.name}.damaged").exists()
    finally:
        app.close()


def test_a_damaged_fragment_index_is_rebuilt_from_the_film(film: tuple[Kit, str]) -> None:
    kit, rec_id = film
    index = kit.library.data.derived(rec_id, "index")
    half = _cut_in_half(index)
    app, client = _client(kit)
    try:
        assert client.get(f"/recordings/{rec_id}").status_code == 200
        _plays(client, rec_id)
        assert (index.parent / f"{index.name}.damaged").read_bytes() == half
    finally:
        app.close()


def test_damaged_thumbnails_are_set_aside_and_made_again(film: tuple[Kit, str]) -> None:
    kit, rec_id = film
    data = kit.library.data
    thumbs = data.derived(rec_id, "thumbs")
    app, client = _client(kit, thumbnails=True)
    try:
        wait_until(thumbs.exists, 60, "thumbnails")
        half = _cut_in_half(thumbs)
        page = client.get(f"/recordings/{rec_id}")
        assert page.status_code == 200
        assert (thumbs.parent / f"{thumbs.name}.damaged").read_bytes() == half
        app.services.thumbnailer.kick()
        wait_until(thumbs.exists, 60, "thumbnails made again")
        identity = app.services.keyring.held_identity()
        assert identity is not None
        assert load_thumbnails(data, rec_id, [identity])
    finally:
        app.close()


def test_frames_the_camera_skipped_are_shown_with_the_film(film: tuple[Kit, str]) -> None:
    kit, rec_id = film
    app, client = _client(kit)
    try:
        # the recorder stores the camera hand-off's drop count with the film
        assert kit.library.index.get(rec_id).dropped_frames == 0
        assert "skipped while filming" not in client.get(f"/recordings/{rec_id}").text
        kit.library.index.update(rec_id, dropped_frames=7)
        assert "7 frames were skipped while filming" in client.get(f"/recordings/{rec_id}").text
        kit.library.index.update(rec_id, dropped_frames=1)
        assert "1 frame was skipped while filming" in client.get(f"/recordings/{rec_id}").text
    finally:
        kit.library.index.update(rec_id, dropped_frames=0)
        app.close()
