"""Fixtures for the phone page: a synthetic kit in tmp_path, the app over it, and a
client that has (or has not) unlocked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from device.kit.assembly import Kit
from tests.web.web_helpers import FakeClock, make_kit, page_settings, unlock
from web.kit import KitApp, create_app


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[Kit]:
    kit = make_kit(tmp_path / "data")
    yield kit
    kit.close()


@pytest.fixture
def app(kit: Kit, clock: FakeClock) -> Iterator[KitApp]:
    app = create_app(
        kit, settings=page_settings(), secret_key="test", idle_timeout_s=60, clock=clock
    )
    yield app
    app.close()  # the thumbnail thread, before the kit closes


@pytest.fixture
def client(app: KitApp) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield client


@pytest.fixture
def unlocked(client: FlaskClient) -> FlaskClient:
    assert unlock(client) == 302
    return client
