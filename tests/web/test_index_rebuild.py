"""The page over a kit whose index was rebuilt, and two phones unlocking at once while an
interrupted film is repaired, over real HTTP (waitress), ten times over."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from device.kit.assembly import Kit, open_kit
from device.library import State, sha256_file
from tests.recording.conftest import wait_for
from tests.recording.sealing_helpers import interrupted_film
from tests.web.web_helpers import (
    FakeClock,
    HttpSession,
    csrf,
    kit_config,
    make_kit,
    page_settings,
    serving,
    unlock,
    wait_until,
)
from web.common.serving import make_server
from web.kit import create_app

RUNS = 10


def test_the_kit_starts_on_a_damaged_index_lists_its_films_and_records(tmp_path: Path) -> None:
    data = tmp_path / "data"
    kit = make_kit(data)
    try:
        rec_id = kit.recorder.start(max_seconds=1.5)
        assert kit.recorder.wait(30)
        before = kit.library.index.get(rec_id)
    finally:
        kit.close()
    with (data / "kit.sqlite").open("r+b") as f:
        f.write(b"\xff" * 100)  # the header: SQLite no longer knows the file

    kit = open_kit(kit_config(data))  # today's kit would not start at all
    app = create_app(kit, settings=page_settings(), secret_key="t", clock=FakeClock())
    try:
        with app.test_client() as phone:
            assert unlock(phone) == 302
            home = phone.get("/").get_data(as_text=True)
            assert "rebuilt from the films on the card" in home and "data-rebuilt" in home
            assert "rebuilt from the films" in phone.get("/settings").get_data(as_text=True)
            assert rec_id in phone.get("/recordings").get_data(as_text=True)
            wait_for(lambda: kit.library.index.get(rec_id).duration_s > 0)  # after the unlock
            row = kit.library.index.get(rec_id)
            assert (row.state, row.case_id, row.held) == (State.COMPLETE, before.case_id, False)
            assert abs(row.duration_s - before.duration_s) < 0.1
            assert phone.get(f"/recordings/{rec_id}/film.mp4").status_code == 200
            started = phone.post("/record", data={"action": "start"}, headers=_json(phone))
            assert started.status_code == 200, started.get_data(as_text=True)
            assert started.get_json()["state"] == "recording"  # filmed into its case again
            time.sleep(1.0)
            kit.recorder.stop()
        (new,) = [r for r in kit.library.index.all() if r.id != rec_id]
        assert (new.state, new.case_id, new.held) == (State.COMPLETE, before.case_id, False)
    finally:
        app.close()
        kit.close()


def _json(phone: FlaskClient) -> dict[str, str]:
    return {"Accept": "application/json", "X-CSRF-Token": csrf(phone, "/")}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Kit, int]]:
    kit = make_kit(tmp_path / "data", case=False)
    app = create_app(
        kit, settings=page_settings(), secret_key="t", clock=FakeClock(), thumbnails=False
    )
    try:
        with serving(make_server(app, "127.0.0.1", 0)) as port:
            yield kit, port
    finally:
        app.close()
        kit.close()


def test_two_phones_unlocking_at_once_never_lose_an_interrupted_film(
    served: tuple[Kit, int], tmp_path: Path
) -> None:
    """Finding 1 of issue #15: overlapping unlocks during a seal once left no film at
    all. Each run puts the unfinished film back, locks the kit, and two phones unlock
    together; the film must be sealed once, whole, and the index must say so."""
    kit, port = served
    rec_id = interrupted_film(tmp_path / "elsewhere", kit.recipients, seconds=4, bitrate=8_000_000)
    original = (tmp_path / "elsewhere" / "recordings" / f"{rec_id}.mp4.age").read_bytes()
    kit.library.index.add(rec_id, "2026-11-21T10:32:05+00:00", 0, True)
    phones = [HttpSession(f"http://127.0.0.1:{port}") for _ in range(2)]
    print(f"\nan interrupted film of {len(original) / 1e6:.1f} MB, {RUNS} runs")
    for run in range(RUNS):
        _put_back(kit, rec_id, original)
        phones[0].page("/unlock")
        phones[0].request("/lock", {"csrf_token": phones[0].token})
        assert _unlock_together(phones) == [302, 302], run
        wait_until(
            lambda: (
                kit.library.index.get(rec_id).state != State.INTERRUPTED
                and phones[0].status()["repairing"] is None
            ),
            60,
            f"the repair of run {run}",
        )
        _check_sealed(kit, rec_id, original, phones[1], run)


def _unlock_together(phones: list[HttpSession]) -> list[int]:
    """Each phone opens the unlock page, then all send the passphrase at the same instant."""
    together = threading.Barrier(len(phones))
    answers: list[int] = []

    def unlock(phone: HttpSession) -> None:
        phone.page("/unlock")
        together.wait()
        answers.append(phone.unlock())

    threads = [threading.Thread(target=unlock, args=(p,)) for p in phones]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def _put_back(kit: Kit, rec_id: str, original: bytes) -> None:
    data = kit.library.data
    for path in (
        data.film(rec_id),
        data.interrupted_original(rec_id),
        data.derived(rec_id, "index"),
    ):
        path.unlink(missing_ok=True)
    data.film(rec_id).write_bytes(original)
    kit.library.index.update(rec_id, state=State.INTERRUPTED, size=0, sha256="", duration_s=0.0)


def _check_sealed(kit: Kit, rec_id: str, original: bytes, phone: HttpSession, run: int) -> None:
    data = kit.library.data
    row = kit.library.index.get(rec_id)
    assert row.state == State.RECOVERED, (run, row)
    film = data.film(rec_id)
    assert film.exists(), run
    assert (film.stat().st_size, sha256_file(film)) == (row.size, row.sha256), run
    assert data.interrupted_original(rec_id).read_bytes() == original, run  # untouched
    assert data.derived(rec_id, "index").exists(), run
    assert not list(data.recordings.glob(".*")), run  # no temp file left behind
    status, _, body = phone.request(f"/recordings/{rec_id}/film.mp4")
    assert status == 200 and body[4:8] == b"ftyp", (run, status)
    assert row.duration_s > 2.0, run
