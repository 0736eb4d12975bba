"""Interrupted films are repaired in the background after an unlock, never inside it:
films a power cut left empty are recorded as such and block nothing."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from flask.testing import FlaskClient

from device.kit.assembly import Kit
from device.library import State
from tests.recording.conftest import wait_for
from tests.recording.sealing_helpers import add_empty_films, interrupted_film
from tests.web.web_helpers import csrf, unlock


def test_empty_interrupted_films_never_block_an_unlock(client: FlaskClient, kit: Kit) -> None:
    empty = add_empty_films(kit.library, kit.recipients)
    assert unlock(client) == 302
    wait_for(lambda: all(kit.library.index.get(i).state == State.EMPTY for i in empty.values()))
    listing = client.get("/recordings")
    assert listing.status_code == 200
    assert listing.get_data(as_text=True).count("Nothing was recorded") == len(empty)
    for rec_id in empty.values():  # the page opens (its notes and consent still count)
        page = client.get(f"/recordings/{rec_id}")
        assert page.status_code == 200 and "Nothing was recorded" in page.get_data(as_text=True)
        film = client.get(f"/recordings/{rec_id}/film.mp4")
        assert (
            film.status_code == 409
            and "nothing was recorded" in film.get_data(as_text=True).lower()
        )
    status = client.get("/status").get_json()
    assert status["repairing"] is None and status["repair_problem"] is None
    # a second unlock finds nothing left to do, and still answers at once
    assert client.post("/lock", data={"csrf_token": csrf(client, "/")}).status_code == 302
    assert unlock(client) == 302


def test_the_repair_waits_for_the_recording_and_the_page_says_so(
    client: FlaskClient, kit: Kit, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    rec_id = interrupted_film(elsewhere, kit.recipients)
    shutil.copy(elsewhere / "recordings" / f"{rec_id}.mp4.age", kit.library.data.recordings)
    kit.library.index.add(rec_id, "2026-11-21T10:32:05+00:00", 0, True)
    kit.library.index.update(rec_id, state=State.INTERRUPTED)
    live = kit.recorder.start()
    started = time.monotonic()
    assert unlock(client) == 302
    assert time.monotonic() - started < 10  # about the scrypt time, not the seal's
    wait_for(lambda: bool(client.get("/status").get_json()["repairing"]))
    said = client.get("/status").get_json()["repairing"]
    assert said.startswith("The film of ") and "once the recording ends" in said
    assert said in client.get("/").get_data(as_text=True)
    time.sleep(1.0)
    assert kit.library.index.get(rec_id).state == State.INTERRUPTED  # it waited
    kit.recorder.stop()
    assert kit.recorder.wait(30)
    wait_for(lambda: kit.library.index.get(rec_id).state == State.RECOVERED, timeout=60)
    assert kit.library.index.get(live).state == State.COMPLETE
    wait_for(lambda: client.get("/status").get_json()["repairing"] is None)
