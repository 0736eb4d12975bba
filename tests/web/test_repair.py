"""Interrupted films are repaired in the background after an unlock, never inside it:
films a power cut left empty are recorded as such and block nothing."""

from __future__ import annotations

from flask.testing import FlaskClient

from device.kit.assembly import Kit
from device.library import State
from tests.recording.conftest import wait_for
from tests.recording.sealing_helpers import add_empty_films
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
