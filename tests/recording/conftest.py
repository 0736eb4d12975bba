"""Fixtures for end-to-end recording tests: a real office key made by ``age-keygen``, and
the ``vigkit`` command run as a separate process, exactly as a person would run it."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from device import age, config
from device.kit.assembly import Kit, open_kit


@dataclass(frozen=True)
class OfficeKey:
    path: Path
    public: str

    @property
    def kits(self) -> Path:
        """The office's register of kits beside the key, where the office commands look
        for it (the sync tests' kit is enrolled there: tests/sync/conftest.py)."""
        return self.path.parent / "vigkit-kits.txt"

    def decrypt(self, film: Path) -> bytes:
        """Decrypt with the real age CLI, into memory only."""
        return subprocess.run(
            ["age", "-d", "-i", str(self.path), str(film)], capture_output=True, check=True
        ).stdout


@pytest.fixture(scope="session")
def office_key(tmp_path_factory: pytest.TempPathFactory) -> OfficeKey:
    path = tmp_path_factory.mktemp("office") / "org.key"
    subprocess.run(["age-keygen", "-o", str(path)], check=True, capture_output=True)
    public = next(
        line.split(": ", 1)[1] for line in path.read_text().splitlines() if "public key" in line
    )
    return OfficeKey(path, public)


VIGKIT = [sys.executable, "-m", "device.cli"]


def vigkit(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VIGKIT, *map(str, args)], capture_output=True, text=True, check=check, timeout=600
    )


def films(data: Path) -> list[Path]:
    return sorted(
        p for p in (data / "recordings").glob("*.mp4.age") if ".interrupted." not in p.name
    )


@pytest.fixture
def office() -> age.X25519Identity:
    return age.X25519Identity.generate()


@pytest.fixture
def kit(tmp_path: Path, office: age.X25519Identity) -> Iterator[Kit]:
    """A whole kit in process with small synthetic sources in real time."""
    cfg = config.load(
        overrides={
            "data_dir": tmp_path / "kit",
            "camera": "synthetic",
            "microphone": "synthetic",
            "width": 320,
            "height": 180,
            "bitrate": 300_000,
            "storage_reserve_mb": 10,  # the least a kit accepts
            "watchdog_seconds": 1.0,
        }
    )
    kit = open_kit(cfg, [office.recipient()])
    yield kit
    kit.close()


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
