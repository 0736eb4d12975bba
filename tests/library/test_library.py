"""Data directory, index, audit chain and atomic writes."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from device.errors import LibraryError, NotFound
from device.library import Library, State, atomic_write, check_recording_id, new_recording_id
from device.sync.clock_trust import ClockTrust
from device.sync.manifest import FORMAT as MANIFEST_FORMAT
from device.sync.manifest import parse_manifest
from device.sync.retention import Retention


@pytest.fixture
def library(tmp_path: Path) -> Library:
    lib = Library(tmp_path / "data")
    yield lib  # type: ignore[misc]
    lib.close()


def test_data_dir_is_private(library: Library) -> None:
    for folder in (library.data.root, library.data.keys, library.data.recordings):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_second_process_cannot_share_the_data_dir(library: Library) -> None:
    with pytest.raises(LibraryError, match="already using"):
        Library(library.data.root)


@pytest.mark.parametrize(
    "bad",
    [
        "../etc/passwd",
        "20261121T103205Z-7f3a/../x",
        "",
        "x" * 300,
        "20261121T103205Z-ZZZZ",
        "20261121T103205Z-7f3a\n",  # `$` would have let the newline through
        "20261121T103205Z-7f3a09c1",  # neither the old nor the new length
    ],
)
def test_recording_ids_refuse_anything_else(bad: str) -> None:
    with pytest.raises(NotFound, match="no recording called"):
        check_recording_id(bad)


def test_ids_are_time_sortable_and_valid() -> None:
    rec_id = new_recording_id()
    assert check_recording_id(rec_id) == rec_id
    assert len(rec_id.rpartition("-")[2]) == 12  # 48 random bits
    earlier = new_recording_id(datetime(2026, 11, 21, 10, 32, 5, tzinfo=UTC))
    later = new_recording_id(datetime(2026, 11, 21, 10, 32, 6, tzinfo=UTC))
    assert earlier < later and earlier.startswith("20261121T103205Z-")


def test_ids_made_before_the_longer_suffix_still_parse() -> None:
    old = "20261121T103205Z-7f3a"
    assert check_recording_id(old) == old
    manifest = {"format": MANIFEST_FORMAT, "kit": "k", "recording": old, "state": "complete"}
    manifest["files"] = [{"name": f"{old}.mp4.age", "size": 1, "sha256": "0" * 64}]
    assert parse_manifest(json.dumps(manifest).encode(), "test").recording == old


def test_index_lists_newest_first_by_our_own_counter(library: Library) -> None:
    # wall clocks may go backwards on a Pi with no RTC: order must not depend on them
    library.index.add("20300101T000000Z-aaaa", "2030-01-01T00:00:00+00:00", 5, True)
    library.index.add("20000101T000000Z-bbbb", "2000-01-01T00:00:00+00:00", 9, False)
    assert [r.id for r in library.index.all()] == ["20000101T000000Z-bbbb", "20300101T000000Z-aaaa"]
    library.index.update("20000101T000000Z-bbbb", state=State.COMPLETE, duration_s=3.5)
    row = library.index.get("20000101T000000Z-bbbb")
    assert (row.state, row.duration_s, row.has_audio) == (State.COMPLETE, 3.5, False)
    with pytest.raises(LibraryError, match="no such recording field"):
        library.index.update("20000101T000000Z-bbbb", name="Alice")


def test_interrupted_recordings_are_found_at_start_up(tmp_path: Path) -> None:
    lib = Library(tmp_path / "d")
    lib.index.add("20261121T103205Z-7f3a", "2026-11-21T10:32:05+00:00", 1, True)
    lib.close()
    lib = Library(tmp_path / "d")  # the "next boot"
    assert lib.mark_interrupted() == ["20261121T103205Z-7f3a"]
    assert lib.index.get("20261121T103205Z-7f3a").state == State.INTERRUPTED
    assert [r.event for r in lib.audit.rows()] == ["recording interrupted"]
    lib.close()


def test_audit_chain_shows_tampering(library: Library) -> None:
    for event in ("unlock", "record start", "record stop"):
        library.audit.append(event, "20261121T103205Z-7f3a", n=1)
    assert library.audit.verify() == []
    db = sqlite3.connect(library.data.database)
    db.execute("UPDATE audit SET event = 'nothing' WHERE seq = 2")
    db.commit()
    assert library.audit.verify() == ["audit row 2 was changed after it was written"]
    db.execute("DELETE FROM audit WHERE seq = 2")
    db.commit()
    db.close()
    assert library.audit.verify() == ["audit row 3 does not follow the row before it"]


def test_atomic_write_replaces_whole_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "x.age"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["x.age"]


@pytest.mark.parametrize("kind", ["device", "folder", "symlink"])
def test_atomic_write_never_renames_over_what_is_not_a_plain_file(
    tmp_path: Path, kind: str
) -> None:
    """A rename onto /dev/null once turned the device into a file: only plain files are replaced."""
    target = {"device": Path("/dev/null"), "folder": tmp_path / "folder"}.get(
        kind, tmp_path / "link"
    )
    if kind == "folder":
        target.mkdir()
    if kind == "symlink":
        (tmp_path / "real").write_bytes(b"kept")
        target.symlink_to(tmp_path / "real")
    with pytest.raises(LibraryError, match="not a plain file"):
        atomic_write(target, b"new")
    assert Path("/dev/null").is_char_device()
    assert not list(tmp_path.glob(".*.tmp"))
    if kind == "symlink":
        assert (tmp_path / "real").read_bytes() == b"kept"


def _gone_pid() -> int:
    child = subprocess.Popen(["true"])  # a process that has ended: its pid is free
    child.wait()
    return child.pid


def test_temps_of_killed_writes_are_removed_at_start_up_and_by_retention(tmp_path: Path) -> None:
    recordings = tmp_path / "data" / "recordings"
    recordings.mkdir(parents=True)
    rec_id = new_recording_id()
    dead = recordings / f".{rec_id}.clip-1.mp4.age.{_gone_pid()}.tmp"  # a killed export
    ours = recordings / f".{rec_id}.still-1.jpg.age.{os.getpid()}.tmp"  # a save under way
    alive = recordings / f".{rec_id}.thumbs.age.1.tmp"  # another living process's
    other = recordings / ".someone.tmp"  # not a name the kit gives: not the kit's to remove
    for path in (dead, ours, alive, other):
        path.write_bytes(b"ciphertext")
    lib = Library(tmp_path / "data")
    try:
        assert not dead.exists()
        assert ours.exists() and alive.exists() and other.exists()
        later = tmp_path / "data" / f".principles.age.{_gone_pid()}.tmp"
        later.write_bytes(b"ciphertext")
        untrusted = ClockTrust(lib.data, jump_days=30, set_this_boot=lambda: False)
        Retention(library=lib, retention_days=7, trust=untrusted).run()  # even on a bad clock
        assert not later.exists() and ours.exists()
    finally:
        lib.close()
