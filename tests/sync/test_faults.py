"""Faults, each at least ten times at random points (seeded): the sync process killed, the
server stopped mid-transfer, the server's disk full, wrong credentials.

Retention is set to 0 days, so a recording is removed from the kit the moment its office
copy is verified: any flaw in verification would show as a lost file. After each fault:
nothing is lost (every file is on the kit unchanged or on the office server identical),
every file the kit calls verified is on the server identical, the error names the
cause, and a re-run completes.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from device.library import Library
from device.sync.state import SyncState
from tests.recording.conftest import VIGKIT
from tests.sync.conftest import (
    KitFiles,
    Server,
    kit_files,
    small_disk_server,
    sync,
)

ROUNDS = 10
pytestmark = pytest.mark.slow  # a few minutes together; they still run in CI


def fresh_kit(template: KitFiles, where: Path) -> KitFiles:
    shutil.rmtree(where, ignore_errors=True)
    data = where / "data"
    shutil.copytree(template.data, data)
    return KitFiles(data, template.film, template.copy, template.interrupted)


def office_files(server: Server) -> dict[str, bytes]:
    top = server.disk / "vigkit"
    if not top.exists() or not any(top.iterdir()):
        return {}
    # the kit folder's files and its cases/ (each name is unique: ids)
    return {p.name: p.read_bytes() for p in server.kit_folder().rglob("*") if p.is_file()}


def assert_nothing_lost(original: dict[str, bytes], kit: KitFiles, server: Server) -> None:
    on_kit, at_office = kit_files(kit.data), office_files(server)
    for name, data in original.items():
        if name in on_kit:
            assert on_kit[name] == data, f"{name} changed on the kit"
        else:
            assert at_office.get(name) == data, f"{name} left the kit but is not at the office"
    lib = Library(kit.data, kit_lock=False)
    try:
        with lib.index.transaction() as db:
            verified = db.execute(
                "SELECT name, sha256 FROM sync_files WHERE verified_at IS NOT NULL"
            ).fetchall()
        for name, sha in verified:  # "verified" means: the office holds exactly this
            assert name in at_office, f"{name} is marked verified but is not at the office"
            assert hashlib.sha256(at_office[name]).hexdigest() == sha, name
        for row in lib.index.all():
            if row.sync_state == SyncState.SYNCED:
                assert f"{row.id}.manifest.json" in at_office
    finally:
        lib.close()


def assert_complete(original: dict[str, bytes], kit: KitFiles, server: Server) -> None:
    """After a finished run with 0 days' retention: all at the office, none on the kit."""
    at_office = office_files(server)
    for name, data in original.items():
        assert at_office.get(name) == data, name
    assert kit_files(kit.data) == {}


def start_sync(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*VIGKIT, "sync", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sync_killed_at_random_points(kit_template: KitFiles, tmp_path: Path) -> None:
    rng = random.Random(6001)
    original = kit_files(kit_template.data)
    killed_midway = 0
    for n in range(ROUNDS):
        server = Server("sftp", tmp_path / f"office{n}", tmp_path / f"server{n}", bwlimit="4M")
        server.root.mkdir()
        server.work.mkdir()
        server.start()
        try:
            kit = fresh_kit(kit_template, tmp_path / f"kit{n}")
            config = kit.write_config(server, days=0)
            proc = start_sync(config)
            time.sleep(rng.uniform(0.3, 3.0))
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            killed_midway += proc.returncode == -signal.SIGKILL
            assert_nothing_lost(original, kit, server)
            again = sync(config)
            assert again.returncode == 0, again.stderr
            assert_complete(original, kit, server)
        finally:
            server.stop()
    assert killed_midway >= ROUNDS // 2, "most kills should land during the sync"


def test_server_stopped_mid_transfer(kit_template: KitFiles, tmp_path: Path) -> None:
    rng = random.Random(6002)
    original = kit_files(kit_template.data)
    failed = 0
    for n in range(ROUNDS):
        kind = ("sftp", "webdav")[n % 2]
        server = Server(kind, tmp_path / f"office{n}", tmp_path / f"server{n}", bwlimit="4M")
        server.root.mkdir()
        server.work.mkdir()
        server.start()
        try:
            kit = fresh_kit(kit_template, tmp_path / f"kit{n}")
            config = kit.write_config(server, days=0)
            proc = start_sync(config)
            time.sleep(rng.uniform(0.3, 3.0))
            server.stop()
            _out, err = proc.communicate(timeout=120)
            if proc.returncode != 0:
                failed += 1
                assert proc.returncode == 1, err
                assert "the office server cannot be reached" in err, err
                assert "Traceback" not in err
            assert_nothing_lost(original, kit, server)
            server.start()
            again = sync(config)
            assert again.returncode == 0, again.stderr
            assert_complete(original, kit, server)
        finally:
            server.stop()
    assert failed >= ROUNDS // 2, "most stops should land during the sync"


def test_servers_disk_full(kit_template: KitFiles, tmp_path: Path) -> None:
    """The office disk (an SFTP server's, or a USB drive) fills at a random point: a random
    size smaller than the films. (``rclone serve webdav`` answers a full disk with "405
    Method Not Allowed", which names nothing; real WebDAV servers say 507, see
    test_diagnose.)"""
    rng = random.Random(6003)
    original = kit_files(kit_template.data)
    total = sum(len(v) for v in original.values())
    for n in range(ROUNDS):
        kind = ("sftp", "local")[n % 2]
        size = rng.randrange(64 << 10, total - (256 << 10))
        server = small_disk_server(kind, tmp_path / f"round{n}", size)
        server.start()
        try:
            kit = fresh_kit(kit_template, tmp_path / f"kit{n}")
            config = kit.write_config(server, days=0)
            full = sync(config)
            assert full.returncode == 1, full.stderr
            assert "the office storage is full" in full.stderr, full.stderr
            assert "Traceback" not in full.stderr
            assert_nothing_lost(original, kit, server)
            (server.work / "grow").touch()  # the office frees space
            deadline = time.monotonic() + 10
            while shutil.disk_usage(server.disk).total < 32 << 20:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            again = sync(config)
            assert again.returncode == 0, again.stderr
            assert_complete(original, kit, server)
        finally:
            server.stop()


def test_wrong_credentials(kit_template: KitFiles, tmp_path: Path) -> None:
    """Wrong password after a sync killed at a random point: refused, named, nothing
    touched; the right password then finishes the job."""
    rng = random.Random(6004)
    original = kit_files(kit_template.data)
    for n in range(ROUNDS):
        kind = ("sftp", "webdav")[n % 2]
        server = Server(kind, tmp_path / f"office{n}", tmp_path / f"server{n}", bwlimit="8M")
        server.root.mkdir()
        server.work.mkdir()
        server.start()
        try:
            kit = fresh_kit(kit_template, tmp_path / f"kit{n}")
            config = kit.write_config(server, days=0)
            proc = start_sync(config)
            time.sleep(rng.uniform(0.2, 2.0))
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            before = kit_files(kit.data)
            wrong = sync(kit.write_config(server, password="not the password", days=0))
            assert wrong.returncode == 1
            assert "refused the kit's user name or password" in wrong.stderr, wrong.stderr
            assert kit_files(kit.data) == before
            assert_nothing_lost(original, kit, server)
            again = sync(kit.write_config(server, days=0))
            assert again.returncode == 0, again.stderr
            assert_complete(original, kit, server)
        finally:
            server.stop()
