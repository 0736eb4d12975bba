"""Fixtures for the deployment tests: a synthetic kit and its page, with the Settings page
given a fake clock setter (a real clock set needs systemd-timedated and polkit, which a
CI machine does not run; the on-Pi test covers the real one)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from device.kit.assembly import Kit
from tests.recording.conftest import OfficeKey
from tests.web.web_helpers import make_kit, unlock
from web.kit import KitApp, PageSettings, create_app

WIFI_NAME = 'Kit; "A":b\\'
WIFI_PASSWORD = 'p@ss;w,rd:"x"\\y'


@dataclass
class FakeSetter:
    """Records what the kit's clock would be set to; ``fail`` makes it refuse."""

    calls: list[datetime] = field(default_factory=list)
    fail: Exception | None = None

    def __call__(self, when: datetime) -> None:
        if self.fail is not None:
            raise self.fail
        self.calls.append(when)


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[Kit]:
    kit = make_kit(tmp_path / "data")
    yield kit
    kit.close()


@pytest.fixture
def setter() -> FakeSetter:
    return FakeSetter()


def settings_app(kit: Kit, settings: PageSettings) -> KitApp:
    return create_app(
        kit, settings=settings, secret_key="test", idle_timeout_s=60, thumbnails=False
    )


@pytest.fixture
def app(kit: Kit, setter: FakeSetter) -> Iterator[KitApp]:
    settings = PageSettings(
        set_clock=setter, wifi_name=WIFI_NAME, wifi_password=WIFI_PASSWORD, lock_minutes=15.0
    )
    app = settings_app(kit, settings)
    yield app
    app.close()


@pytest.fixture
def client(app: KitApp) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield client


@pytest.fixture
def unlocked(client: FlaskClient) -> FlaskClient:
    assert unlock(client) == 302
    return client


@pytest.fixture(scope="session")
def office_key(tmp_path_factory: pytest.TempPathFactory) -> OfficeKey:
    """An office key made by the real age-keygen, as an office would."""
    path = tmp_path_factory.mktemp("office") / "org.key"
    subprocess.run(["age-keygen", "-o", str(path)], check=True, capture_output=True)
    public = next(
        line.split(": ", 1)[1] for line in path.read_text().splitlines() if "public key" in line
    )
    return OfficeKey(path, public)
