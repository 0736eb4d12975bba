"""Helpers for the phone page tests: a synthetic kit with a passphrase-wrapped identity,
a clock the tests move, and the unlock steps a browser takes."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

from device import age, config
from device.app import Kit, open_kit

PASSPHRASE = "quiet otter paints blue harbours"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_kit(data: Path) -> Kit:
    identity = age.X25519Identity.generate()
    keys = data / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    (keys / "kit-identity.age").write_bytes(age.wrap_identity(identity, PASSPHRASE, work_factor=10))
    cfg = config.load(
        overrides={
            "data_dir": data,
            "camera": "synthetic",
            "microphone": "synthetic",
            "width": 320,
            "height": 180,
            "fps": 30,
            "bitrate": 500_000,
            "storage_reserve_mb": 10,
        }
    )
    return open_kit(cfg, [identity.recipient()])


def csrf(client: FlaskClient, path: str = "/unlock") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found, page
    return found.group(1)


def unlock(client: FlaskClient, passphrase: str = PASSPHRASE) -> int:
    response = client.post("/unlock", data={"passphrase": passphrase, "csrf_token": csrf(client)})
    return response.status_code
