"""The Settings page's "Sync now" and the sync badges on the list, against real rclone.

The office is a local folder (a USB drive's stand-in, as in tests/sync) or an SFTP
remote nobody answers on. The sync runs in the app's process on its background thread,
exactly as on a kit.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from device.kit.assembly import Kit
from device.library.damaged import film_damage
from device.recording.recovery import seal_lock
from device.sync import SyncState
from device.sync.manifest import manifest_name
from tests.mediacheck import ffmpeg_decodes, stream_duration
from tests.recording.damage_helpers import chunks_of, flip_byte
from tests.sync.conftest import clock_set_this_boot
from tests.web.web_helpers import (
    FakeClock,
    csrf,
    free_port,
    make_kit,
    page_settings,
    unlock,
    wait_until,
)
from web.kit import KitApp, SyncSettings, create_app
from web.kit.sync import NOT_YET_REPAIRED
from web.kit.sync_runner import SyncRunner

PhoneFor = Callable[[SyncSettings | None], FlaskClient]


@pytest.fixture
def bare_kit(tmp_path: Path) -> Iterator[Kit]:
    kit = make_kit(tmp_path / "data", fast=True)
    yield kit
    kit.close()


@pytest.fixture
def film_kit(bare_kit: Kit) -> Kit:
    """The kit with one short film on it."""
    bare_kit.recorder.start(max_seconds=1.5)
    assert bare_kit.recorder.wait(60)
    return bare_kit


def _app(kit: Kit, sync: SyncSettings | None) -> KitApp:
    return create_app(
        kit,
        settings=page_settings(),
        sync=sync,
        secret_key="sync",
        idle_timeout_s=60,
        clock=FakeClock(),
        thumbnails=False,
    )


@pytest.fixture
def phone_for(bare_kit: Kit) -> Iterator[PhoneFor]:
    """An unlocked phone on a page with the given sync settings (None: not set up)."""
    apps: list[KitApp] = []

    def phone(sync: SyncSettings | None) -> FlaskClient:
        apps.append(_app(bare_kit, sync))
        client = apps[-1].test_client()
        assert unlock(client) == 302
        return client

    yield phone
    for app in apps:
        app.close()


def runner(app: Flask) -> SyncRunner:
    assert isinstance(app, KitApp)
    return app.services.sync


def _local(tmp_path: Path) -> SyncSettings:
    conf = tmp_path / "rclone.conf"
    conf.write_text("# a USB drive needs no remote: sync_remote is a folder\n")
    return SyncSettings(remote=str(tmp_path / "usb" / "vigkit"), rclone_config=conf)


def _sync_now(phone: FlaskClient) -> None:
    response = phone.post("/settings/sync", data={"csrf_token": csrf(phone, "/settings")})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/settings")
    app = phone.application
    wait_until(lambda: not runner(app).running, timeout=120, what="the sync to finish")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_sync_now_sends_the_films_and_the_badge_says_synced(
    phone_for: PhoneFor, film_kit: Kit, tmp_path: Path
) -> None:
    phone = phone_for(_local(tmp_path))
    (row,) = film_kit.library.index.all()
    assert "Waiting to sync" in phone.get("/recordings").get_data(as_text=True)
    page = _text(phone.get("/settings").get_data(as_text=True))
    assert "Sync now" in page and "Last sync: never" in page
    assert "1 recording is waiting to be sent to the office" in page

    _sync_now(phone)

    office = tmp_path / "usb" / "vigkit" / film_kit.library.index.kit_id()
    film = film_kit.library.data.recordings / f"{row.id}.mp4.age"
    assert (office / film.name).read_bytes() == film.read_bytes()
    assert (office / manifest_name(row.id)).is_file()
    listing = phone.get("/recordings").get_data(as_text=True)
    assert ">Synced<" in listing and "Waiting to sync" not in listing
    page = _text(phone.get("/settings").get_data(as_text=True))
    assert "Every recording is safe at the office" in page
    assert "Last sync: never" not in page and "did not finish" not in page
    state = phone.get("/settings/sync", headers={"Accept": "application/json"}).get_json()
    assert state["running"] is False and state["error"] == "" and state["last_ok"]


def test_unreachable_office_shows_the_cause_in_plain_words(
    phone_for: PhoneFor, film_kit: Kit, tmp_path: Path
) -> None:
    conf = tmp_path / "rclone.conf"
    conf.write_text(
        f"[office]\ntype = sftp\nhost = 127.0.0.1\nport = {free_port()}\nuser = office\n"
    )  # nothing listens on that port: the office server is switched off
    phone = phone_for(SyncSettings(remote="office:vigkit", rclone_config=conf))
    _sync_now(phone)
    page = _text(phone.get("/settings").get_data(as_text=True))
    assert "The last sync did not finish: The office server cannot be reached." in page
    assert "Check the kit has a network connection" in page and "Nothing was lost" in page
    assert "Waiting to sync" in phone.get("/recordings").get_data(as_text=True)
    film = film_kit.library.data.recordings
    assert list(film.glob("*.mp4.age")), "nothing is removed from the kit"


def test_missing_rclone_config_is_a_clear_error(phone_for: PhoneFor, tmp_path: Path) -> None:
    phone = phone_for(SyncSettings(remote="office:vigkit", rclone_config=tmp_path / "nowhere.conf"))
    _sync_now(phone)
    page = _text(phone.get("/settings").get_data(as_text=True))
    assert "nowhere.conf does not exist" in page and "Check rclone_config" in page


def test_not_set_up_says_so_and_does_nothing(phone_for: PhoneFor) -> None:
    phone = phone_for(None)
    page = _text(phone.get("/settings").get_data(as_text=True))
    assert "Sync is not set up on this kit" in page and "Sync now" not in page
    assert "sync" not in phone.get("/recordings").get_data(as_text=True).lower()
    token = csrf(phone, "/settings")
    answer = phone.post(
        "/settings/sync",
        data={"csrf_token": token},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 409 and answer.get_json()["configured"] is False
    assert not runner(phone.application).running


def test_never_while_recording(phone_for: PhoneFor, bare_kit: Kit, tmp_path: Path) -> None:
    phone = phone_for(_local(tmp_path))
    bare_kit.recorder.start(max_seconds=30)
    try:
        page = _text(phone.get("/settings").get_data(as_text=True))
        assert "The kit is recording: sync waits until the film is saved" in page
        assert re.search(r"<button[^>]*disabled[^>]*>Sync now", phone.get("/settings").text)
        answer = phone.post(
            "/settings/sync",
            data={"csrf_token": csrf(phone, "/settings")},
            headers={"Accept": "application/json"},
        )
        assert answer.status_code == 409
        assert answer.get_json()["error"] == "The kit is recording."
        assert not runner(phone.application).running
    finally:
        bare_kit.recorder.stop(wait=True)
    assert not (tmp_path / "usb").exists(), "nothing was sent while recording"


def test_sync_now_needs_the_csrf_token_and_the_unlock(bare_kit: Kit, tmp_path: Path) -> None:
    app = _app(bare_kit, _local(tmp_path))
    with app.test_client() as client:
        assert client.post("/settings/sync").status_code in (400, 401)
        assert client.get("/settings/sync").status_code == 401
        assert unlock(client) == 302
        assert client.post("/settings/sync").status_code == 400
    assert not runner(app).running and not (tmp_path / "usb").exists()
    app.close()


def test_an_unsynced_film_past_erase_by_is_erased_only_on_confirmation(
    phone_for: PhoneFor, film_kit: Kit, tmp_path: Path
) -> None:
    library = film_kit.library
    (row,) = library.index.all()
    library.index.set_erase_by(row.id, date.today() - timedelta(days=1))
    phone = phone_for(_local(tmp_path))
    page = html.unescape(_text(phone.get("/settings").get_data(as_text=True)))
    assert "Nothing is erased: the kit's clock was not set from a phone or NTP" in page
    assert "Erase now" not in page  # an unset clock: not even offered
    clock_set_this_boot(library.data.root)  # the Settings page set the clock this boot
    page = html.unescape(_text(phone.get("/settings").get_data(as_text=True)))
    assert "not verified at the office, waiting for your confirmation" in page
    assert "Erase now" in page and "Nothing is erased" not in page
    files = sorted(p.name for p in library.data.recordings.iterdir())
    assert any(n.startswith(row.id) for n in files)
    refused = phone.post(f"/settings/sync/erase/{row.id}", data={})  # no CSRF token
    assert refused.status_code == 400
    assert any(p.name.startswith(row.id) for p in library.data.recordings.iterdir())
    token = csrf(phone, "/settings")
    done = phone.post(f"/settings/sync/erase/{row.id}", data={"csrf_token": token})
    assert done.status_code == 303
    assert not any(p.name.startswith(row.id) for p in library.data.recordings.iterdir())
    (erase,) = [r for r in library.audit.rows() if r.event == "erase"]
    assert erase.recording == row.id
    assert erase.detail["reason"].endswith("erased on the practitioner's confirmation")
    again = phone.post(f"/settings/sync/erase/{row.id}", data={"csrf_token": token})
    assert again.status_code == 403  # no longer waiting: said in words
    assert "not waiting to be erased" in again.get_data(as_text=True)


def test_a_film_damaged_on_the_card_is_named_repaired_and_then_sent(
    phone_for: PhoneFor, bare_kit: Kit, tmp_path: Path
) -> None:
    """Finding 4 on the page: sync does not send it as safe, the pages say so; unlocked,
    the kit keeps every readable second in a repaired copy, which the next sync sends."""
    bare_kit.recorder.start(max_seconds=20)
    assert bare_kit.recorder.wait(120)
    library = bare_kit.library
    (row,) = library.index.all()
    film = library.data.film(row.id)
    flip_byte(film, chunks_of(film) // 2)  # a bad sector after recording
    damaged = film.read_bytes()
    phone = phone_for(_local(tmp_path))
    office = tmp_path / "usb" / "vigkit" / library.index.kit_id()
    with seal_lock(library.data):  # the repair waits: the page's words before it
        _sync_now(phone)
        assert not (office / film.name).exists()  # not sent as good
        settings = _text(phone.get("/settings").text)
        assert "A film was damaged on the card after recording, so it was not sent" in settings
        assert "Not sent: damaged on the card" in phone.get("/recordings").text
        assert NOT_YET_REPAIRED in html.unescape(phone.get(f"/recordings/{row.id}").text)
    wait_until(
        lambda: library.index.get(row.id).sync_state == SyncState.NOT_SYNCED,
        timeout=60,
        what="the repair",
    )
    said = html.unescape(phone.get(f"/recordings/{row.id}").text)
    match = re.search(r"about (\d+) s is unreadable \(at 0:\d\d\)", said)
    assert match and match.group(1) == "1", said
    assert "goes to the office with the next sync" in said
    assert match.group(0) in html.unescape(phone.get("/recordings").text)
    assert (library.data.recordings / f"{film.name}.damaged").read_bytes() == damaged  # kept
    played = phone.get(f"/recordings/{row.id}/film.mp4").data
    assert ffmpeg_decodes(played) == (0, "")
    kept = stream_duration(played)
    damage = film_damage(library.index, row.id)
    assert damage is not None and kept == pytest.approx(20.0, abs=0.3)  # the gap holds
    _sync_now(phone)
    assert (office / film.name).read_bytes() == film.read_bytes() != damaged
    assert library.index.get(row.id).sync_state == SyncState.SYNCED
    assert "is safe at the office" in html.unescape(phone.get(f"/recordings/{row.id}").text)
    events = [r.event for r in library.audit.rows()]
    assert "film damaged on the card" in events and "damaged film repaired" in events
    print(
        f"\npage journey, a 20 s film damaged on the card: {damage.lost_s} s lost, repaired copy"
        f" plays {kept:.2f} s with the gap, sent once repaired"
    )
