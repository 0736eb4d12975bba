"""Fixtures for the office tools: an archive made by a real ``vigkit sync`` to a folder
(the USB-drive remote), and a folder in memory (/dev/shm) for plain exports, removed after
each test so no plaintext is ever left at rest."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from device.office.kit_register import Register, load_register
from tests.recording.conftest import OfficeKey
from tests.sync.conftest import KitFiles, Server, kit, kit_template, office_key, sync

__all__ = ["kit", "kit_template", "office_key"]  # re-exported fixtures


@pytest.fixture
def archive(kit: KitFiles, tmp_path: Path) -> Path:
    """The office's archive folder after one sync of the kit (retention off)."""
    usb = Server("local", tmp_path / "usb", tmp_path / "usb-work")
    usb.root.mkdir()
    usb.work.mkdir()
    done = sync(kit.write_config(usb))
    assert done.returncode == 0, done.stderr
    return usb.root / "vigkit"


@pytest.fixture
def ram_dir() -> Iterator[Path]:
    """A folder in RAM for plain exports (the office's point is plain files)."""
    path = Path(tempfile.mkdtemp(prefix="vigkit-export-", dir="/dev/shm"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def register(office_key: OfficeKey) -> Register:
    """The office's register of kits, where the sync tests' kit is enrolled (beside the
    office key: tests/sync/conftest.py ``enrol``)."""
    return load_register(office_key.kits)
