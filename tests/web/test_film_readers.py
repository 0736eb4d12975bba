"""Opened film readers are kept at rest between range requests (web.common.films.Layouts):
every answer is still the right bytes, two answers at once never share a reader, a film
replaced on disk is never served from an old reader, and Lock or the idle timeout
forgets them all."""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from device.kit.assembly import Kit
from tests.web.web_helpers import FakeClock, csrf, make_kit, page_settings, unlock
from web.common.films import Layouts
from web.kit import KitApp, create_app


@pytest.fixture(scope="module")
def film_kit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kit, str]]:
    kit = make_kit(tmp_path_factory.mktemp("readers") / "data", fast=True)
    rec_id = kit.recorder.start(max_seconds=20)
    assert kit.recorder.wait(60)
    yield kit, rec_id
    kit.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(film_kit: tuple[Kit, str], clock: FakeClock) -> Iterator[Flask]:
    app = create_app(
        film_kit[0], settings=page_settings(), secret_key="readers", idle_timeout_s=60, clock=clock
    )
    yield app
    app.close()


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        assert unlock(client) == 302
        yield client


def _layouts(client: FlaskClient) -> Layouts:
    app = client.application
    assert isinstance(app, KitApp)
    layouts: Layouts = app.services.layouts
    return layouts


def _get(client: FlaskClient, url: str, first: int, last: int | str = "") -> bytes:
    """One range answer, closed as a WSGI server closes it (its reader goes to rest)."""
    with client.get(url, headers={"Range": f"bytes={first}-{last}"}) as answer:
        assert answer.status_code == 206, answer.status_code
        return answer.get_data()


def _whole(client: FlaskClient, url: str) -> bytes:
    """The film, range after range, as a player fetches it (each answer is capped)."""
    film = bytearray()
    while True:
        with client.get(url, headers={"Range": f"bytes={len(film)}-"}) as answer:
            if answer.status_code == 416:
                return bytes(film)
            film += answer.get_data()
            if len(film) == int(answer.headers["Content-Range"].rpartition("/")[2]):
                return bytes(film)


def _idle(layouts: Layouts) -> int:
    return sum(len(readers) for readers in layouts._idle.values())


def test_ranges_from_rested_readers_are_the_right_bytes(
    client: FlaskClient, film_kit: tuple[Kit, str]
) -> None:
    url = f"/recordings/{film_kit[1]}/film.mp4"
    film = _whole(client, url)
    size = len(film)
    rng = random.Random(7)
    for _ in range(60):
        start = rng.randrange(0, size - 1)
        end = min(size - 1, start + rng.randrange(1, 200_000))
        with client.get(url, headers={"Range": f"bytes={start}-{end}"}) as part:
            assert part.status_code == 206
            assert part.get_data() == film[start : end + 1]
    assert 1 <= _idle(_layouts(client)) <= 2  # at rest, and no more than two


def test_two_answers_at_once_never_share_a_reader(
    client: FlaskClient, film_kit: tuple[Kit, str]
) -> None:
    url = f"/recordings/{film_kit[1]}/film.mp4"
    film = _whole(client, url)
    first = client.get(url, headers={"Range": "bytes=1000-"}, buffered=False)
    second = client.get(url, headers={"Range": "bytes=5000-"}, buffered=False)
    a, b = iter(first.response), iter(second.response)
    got_a, got_b = bytearray(), bytearray()
    for _ in range(4):  # read both bodies in turn, as two phones would
        got_a += next(a)
        got_b += next(b)
    first.close()
    second.close()
    assert bytes(got_a) == film[1000 : 1000 + len(got_a)]
    assert bytes(got_b) == film[5000 : 5000 + len(got_b)]


def test_a_replaced_film_is_never_served_from_an_old_reader(
    client: FlaskClient, film_kit: tuple[Kit, str], tmp_path: Path
) -> None:
    kit, rec_id = film_kit
    url = f"/recordings/{rec_id}/film.mp4"
    path = kit.library.data.film(rec_id)
    assert len(_get(client, url, 0, 99)) == 100
    before = {key for key, readers in _layouts(client)._idle.items() if readers}
    assert before
    backup = tmp_path / "backup.age"
    shutil.copy2(path, backup)
    # the same ciphertext under a new inode, as a sealed or restored film would be
    shutil.copy2(backup, tmp_path / "new.age")
    os.replace(tmp_path / "new.age", path)
    assert len(_get(client, url, 0, 99)) == 100
    after = {key for key, readers in _layouts(client)._idle.items() if readers}
    assert after - before, "the new file was read through an old reader"
    path.unlink()  # removed (retention): an old reader must not keep serving it
    try:
        gone = client.get(url, headers={"Range": "bytes=0-99"})
        assert gone.status_code == 404
        assert "missing" in gone.get_data(as_text=True)
    finally:
        os.replace(backup, path)


def test_lock_and_idle_timeout_forget_the_readers(
    client: FlaskClient, film_kit: tuple[Kit, str], clock: FakeClock
) -> None:
    url = f"/recordings/{film_kit[1]}/film.mp4"
    layouts = _layouts(client)
    assert len(_get(client, url, 0, 99)) == 100
    rested = [r for readers in layouts._idle.values() for r in readers]
    assert rested
    assert client.post("/lock", data={"csrf_token": csrf(client, "/")}).status_code == 302
    assert _idle(layouts) == 0 and not layouts._plans
    assert all(r.closed for r in rested)

    assert unlock(client) == 302
    assert len(_get(client, url, 0, 99)) == 100
    rested = [r for readers in layouts._idle.values() for r in readers]
    assert rested
    clock.now += 61
    assert client.get(url, headers={"Range": "bytes=0-99"}).status_code == 401
    assert _idle(layouts) == 0 and all(r.closed for r in rested)


def test_an_answer_cut_off_after_lock_closes_its_reader(
    client: FlaskClient, film_kit: tuple[Kit, str]
) -> None:
    url = f"/recordings/{film_kit[1]}/film.mp4"
    layouts = _layouts(client)
    streaming = client.get(url, headers={"Range": "bytes=0-"}, buffered=False)
    next(iter(streaming.response))
    assert client.post("/lock", data={"csrf_token": csrf(client, "/")}).status_code == 302
    streaming.close()  # the answer ends after Lock: its reader must not come back to rest
    assert _idle(layouts) == 0
