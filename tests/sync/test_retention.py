"""Retention with a fake clock: grace periods, shared review done, erase-by dates; never
anything unverified (except on the erase-by date, which is the point of that date)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from device.library import Library, State
from device.sync import Rclone, Retention, Syncer
from tests.sync.conftest import KitFiles, kit_files

T0 = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def lib(kit: KitFiles) -> Iterator[Library]:
    library = Library(kit.data, kit_lock=False)
    yield library
    library.close()


def syncer(lib: Library, usb: Path, clock: FakeClock) -> Syncer:
    return Syncer(library=lib, remote=str(usb), rclone=Rclone(), clock=clock)


def files_of(kit: KitFiles, rec_id: str) -> list[str]:
    return sorted(n for n in kit_files(kit.data) if n.startswith(rec_id))


def test_grace_period_then_removed(
    kit: KitFiles, lib: Library, clock: FakeClock, tmp_path: Path
) -> None:
    syncer(lib, tmp_path / "usb", clock).run()
    retention = Retention(library=lib, retention_days=7, clock=clock)
    clock.advance(days=6, hours=23)
    assert retention.run() == []
    assert files_of(kit, kit.film)
    clock.advance(hours=1)
    erased = retention.run()
    assert {e.recording for e in erased} == {kit.film, kit.copy, kit.interrupted}
    assert kit_files(kit.data) == {}
    row = lib.index.get(kit.film)
    assert row.state == State.ERASED and row.erased_at == clock.now.isoformat()
    events = [(r.event, r.recording, r.detail.get("reason")) for r in lib.audit.rows()]
    assert ("erase", kit.film, "synced and verified 7 days ago") in events
    assert lib.audit.verify() == []
    assert retention.run() == []  # nothing left to do; no second erase row


def test_shared_review_done_removes_it_at_once(
    kit: KitFiles, lib: Library, clock: FakeClock, tmp_path: Path
) -> None:
    lib.index.set_review_done(kit.film, True)
    retention = Retention(library=lib, retention_days=7, clock=clock)
    assert retention.run() == []  # done, but not synced yet: kept
    syncer(lib, tmp_path / "usb", clock).run()
    assert [e.recording for e in retention.run()] == [kit.film]
    assert files_of(kit, kit.film) == [] and files_of(kit, kit.copy)


def test_erase_by_date_removes_it_even_unsynced(
    kit: KitFiles, lib: Library, clock: FakeClock
) -> None:
    lib.index.set_erase_by(kit.copy, date(2026, 11, 25))
    lib.index.set_erase_by(kit.film, date(2026, 12, 1))
    retention = Retention(library=lib, retention_days=7, clock=clock)
    clock.advance(days=3)
    assert retention.run() == []
    clock.advance(days=1)  # 25 November
    (erased,) = retention.run()
    assert erased.recording == kit.copy and erased.reason == "consent erase-by date 2026-11-25"
    assert files_of(kit, kit.copy) == [] and files_of(kit, kit.film)
    assert lib.index.get(kit.copy).state == State.ERASED
    (row,) = [r for r in lib.audit.rows() if r.event == "erase"]
    assert row.recording == kit.copy and row.detail["files"] == 1
    lib.index.set_erase_by(kit.film, None)  # consent changed: no date any more
    clock.advance(days=30)
    assert retention.run() == []


def test_a_file_changed_since_sync_keeps_the_recording(
    kit: KitFiles, lib: Library, clock: FakeClock, tmp_path: Path
) -> None:
    sync = syncer(lib, tmp_path / "usb", clock)
    sync.run()
    notes = kit.data / "recordings" / f"{kit.film}.notes.age"
    notes.write_bytes(notes.read_bytes() + b"edited")  # notes saved after the sync
    film = kit.data / "recordings" / f"{kit.copy}.mp4.age"
    st = film.stat()
    damaged = bytearray(film.read_bytes())
    damaged[100] ^= 0xFF  # same size and time: only a fresh hash can tell
    film.write_bytes(bytes(damaged))
    os.utime(film, ns=(st.st_atime_ns, st.st_mtime_ns))
    retention = Retention(library=lib, retention_days=7, clock=clock)
    clock.advance(days=8)
    assert {e.recording for e in retention.run()} == {kit.interrupted}
    assert files_of(kit, kit.film) and files_of(kit, kit.copy)
    sync.run()  # the edited notes go to the office: its grace period starts again
    assert retention.run() == []
    clock.advance(days=7)
    assert {e.recording for e in retention.run()} == {kit.film}
    assert files_of(kit, kit.copy)  # never: its office copy differs from the kit's


def test_a_recording_being_recorded_is_never_touched(
    kit: KitFiles, lib: Library, clock: FakeClock
) -> None:
    lib.index.update(kit.copy, state=State.RECORDING)
    lib.index.set_erase_by(kit.copy, date(2026, 11, 1))
    assert Retention(library=lib, retention_days=0, clock=clock).run() == []
    assert files_of(kit, kit.copy)


def test_a_failed_sync_is_never_grounds_for_removal(
    kit: KitFiles, lib: Library, clock: FakeClock, tmp_path: Path
) -> None:
    from device.errors import SyncError

    blocked = tmp_path / "usb"
    blocked.write_text("a file where the folder should be")
    with pytest.raises(SyncError):
        syncer(lib, blocked, clock).run()
    clock.advance(days=365)
    assert Retention(library=lib, retention_days=0, clock=clock).run() == []
    assert len(kit_files(kit.data)) == 7
