"""Retention with a fake clock: grace periods, shared review done, erase-by dates; never
anything unverified (except on the erase-by date, which is the point of that date)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from device import cases
from device.library import Library, State
from device.sync import Rclone, Retention, Syncer
from device.sync.clock_trust import ClockTrust
from tests.sync.conftest import KitFiles, clock_set_this_boot, kit_files, sync

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


class FakeBoot:
    """Whether the clock was set from a phone or NTP this boot, as the test says."""

    def __init__(self) -> None:
        self.set = True

    def __call__(self) -> bool:
        return self.set


@pytest.fixture
def boot() -> FakeBoot:
    return FakeBoot()


def retention_of(lib: Library, clock: FakeClock, boot: FakeBoot, days: float = 7) -> Retention:
    trust = ClockTrust(lib.data, jump_days=30, set_this_boot=boot)
    return Retention(library=lib, retention_days=days, trust=trust, clock=clock)


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
    kit: KitFiles, lib: Library, clock: FakeClock, boot: FakeBoot, tmp_path: Path
) -> None:
    syncer(lib, tmp_path / "usb", clock).run()
    retention = retention_of(lib, clock, boot, 7)
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
    kit: KitFiles, lib: Library, clock: FakeClock, boot: FakeBoot, tmp_path: Path
) -> None:
    lib.index.set_review_done(kit.film, True)
    retention = retention_of(lib, clock, boot, 7)
    assert retention.run() == []  # done, but not synced yet: kept
    syncer(lib, tmp_path / "usb", clock).run()
    assert [e.recording for e in retention.run()] == [kit.film]
    assert files_of(kit, kit.film) == [] and files_of(kit, kit.copy)


def test_an_unsynced_film_past_erase_by_waits_for_confirmation(
    kit: KitFiles, lib: Library, clock: FakeClock, boot: FakeBoot
) -> None:
    lib.index.set_erase_by(kit.copy, date(2026, 11, 25))
    lib.index.set_erase_by(kit.film, date(2026, 12, 1))
    retention = retention_of(lib, clock, boot, 7)
    clock.advance(days=3)
    assert retention.run() == [] and retention.waiting() == []
    clock.advance(days=1)  # 25 November: the copy was never verified at the office
    assert retention.run() == []
    assert retention.run() == []  # a second pass logs nothing new
    ((row, reason),) = retention.waiting()
    assert row.id == kit.copy and "waiting for your confirmation" in reason
    assert files_of(kit, kit.copy) and files_of(kit, kit.film)
    waits = [r for r in lib.audit.rows() if r.event == "erase waits"]
    assert [(r.recording, r.detail["reason"]) for r in waits] == [(kit.copy, reason)]
    assert retention.erase_confirmed(kit.film) is None  # not past its date: refused
    erased = retention.erase_confirmed(kit.copy)  # the page's "Erase now"
    assert erased is not None and erased.files == 1
    assert files_of(kit, kit.copy) == [] and files_of(kit, kit.film)
    assert lib.index.get(kit.copy).state == State.ERASED
    (row_,) = [r for r in lib.audit.rows() if r.event == "erase"]
    assert row_.recording == kit.copy
    assert row_.detail["reason"].endswith("erased on the practitioner's confirmation")
    assert retention.waiting() == [] and retention.erase_confirmed(kit.copy) is None
    assert lib.audit.verify() == []


def test_a_verified_film_past_erase_by_is_removed(
    kit: KitFiles, lib: Library, clock: FakeClock, boot: FakeBoot, tmp_path: Path
) -> None:
    syncer(lib, tmp_path / "usb", clock).run()
    lib.index.set_erase_by(kit.copy, date(2026, 11, 23))
    retention = retention_of(lib, clock, boot, 30)
    assert retention.run() == []
    clock.advance(days=2)
    (erased,) = retention.run()
    assert erased.recording == kit.copy and erased.reason == "consent erase-by date 2026-11-23"
    assert files_of(kit, kit.copy) == [] and files_of(kit, kit.film)
    (row,) = [r for r in lib.audit.rows() if r.event == "erase"]
    assert (row.recording, row.detail["reason"]) == (kit.copy, erased.reason)


def test_a_clock_jumped_a_year_ahead_removes_nothing_and_says_why(
    kit: KitFiles, lib: Library, clock: FakeClock, boot: FakeBoot, tmp_path: Path
) -> None:
    syncer(lib, tmp_path / "usb", clock).run()
    lib.index.set_erase_by(kit.film, date(2026, 11, 30))
    retention = retention_of(lib, clock, boot, 7)
    assert retention.run() == []  # the kit has now seen 21 November 2026
    before = kit_files(kit.data)
    clock.advance(days=365)  # the phone set 2027: every date has passed
    assert retention.run() == [] and retention.waiting() == []
    assert kit_files(kit.data) == before
    trust = retention.clock_trust()
    assert not trust.ok and trust.jumped
    assert trust.reason == ("the clock jumped 365 days ahead of the last known time (21 Nov 2026)")
    (held,) = [r for r in lib.audit.rows() if r.event == "retention held"]
    assert held.detail["reason"] == trust.reason
    retention.trust.confirm(clock.now)  # the practitioner confirms the date on the page
    assert {e.recording for e in retention.run()} == {kit.film, kit.copy, kit.interrupted}


def test_a_clock_not_set_this_boot_or_set_back_removes_nothing(
    kit: KitFiles, lib: Library, clock: FakeClock, boot: FakeBoot, tmp_path: Path
) -> None:
    syncer(lib, tmp_path / "usb", clock).run()
    lib.index.set_erase_by(kit.copy, date(2026, 11, 22))
    retention = retention_of(lib, clock, boot, 0)
    clock.advance(days=-1)  # before the erase-by date: nothing due, but the mark is set
    assert retention.run() == []
    boot.set = False  # a new boot: the clock is whatever the Pi woke up with
    clock.advance(days=10)
    assert retention.run() == [] and len(kit_files(kit.data)) == 7
    assert retention.clock_trust().reason == (
        "the kit's clock was not set from a phone or NTP since it started"
    )
    boot.set = True
    clock.advance(days=-30)  # set, but earlier than the kit has seen
    assert retention.run() == [] and len(kit_files(kit.data)) == 7
    held = [r.detail["reason"] for r in lib.audit.rows() if r.event == "retention held"]
    assert held[0].startswith("the kit's clock was not set")
    assert held[1].startswith("the clock says 31 Oct 2026, earlier than the kit last saw (20 Nov")
    clock.advance(days=30)
    assert {e.recording for e in retention.run()} == {kit.film, kit.copy, kit.interrupted}


def test_a_file_changed_since_sync_keeps_the_recording(
    kit: KitFiles, lib: Library, clock: FakeClock, boot: FakeBoot, tmp_path: Path
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
    retention = retention_of(lib, clock, boot, 7)
    clock.advance(days=8)
    assert {e.recording for e in retention.run()} == {kit.interrupted}
    assert files_of(kit, kit.film) and files_of(kit, kit.copy)
    sync.run()  # the edited notes go to the office: its grace period starts again
    assert retention.run() == []
    clock.advance(days=7)
    assert {e.recording for e in retention.run()} == {kit.film}
    assert files_of(kit, kit.copy)  # never: its office copy differs from the kit's


def test_a_recording_being_recorded_is_never_touched(
    kit: KitFiles, lib: Library, clock: FakeClock, boot: FakeBoot
) -> None:
    lib.index.update(kit.copy, state=State.RECORDING)
    lib.index.set_erase_by(kit.copy, date(2026, 11, 1))
    assert retention_of(lib, clock, boot, 0).run() == []
    assert files_of(kit, kit.copy)


def test_a_failed_sync_is_never_grounds_for_removal(
    kit: KitFiles, lib: Library, clock: FakeClock, boot: FakeBoot, tmp_path: Path
) -> None:
    from device.errors import SyncError

    blocked = tmp_path / "usb"
    blocked.write_text("a file where the folder should be")
    with pytest.raises(SyncError):
        syncer(lib, blocked, clock).run()
    clock.advance(days=365)
    assert retention_of(lib, clock, boot, 0).run() == []
    assert len(kit_files(kit.data)) == 7


def test_retention_only_on_a_clock_a_year_ahead_erases_nothing_and_says_why(
    kit: KitFiles, lib: Library
) -> None:
    """The finding as reproduced: ``vigkit sync --retention-only`` after the phone set the
    clock a year ahead removed every file of a film never synced. Now it keeps them."""
    lib.index.set_erase_by(kit.film, date.today() - timedelta(days=1))
    config = kit.data.parent / "retention.toml"
    config.write_text(f'data_dir = "{kit.data}"\n')
    clock_set_this_boot(kit.data)  # the phone set the clock this boot...
    a_year_ago = datetime.now(UTC) - timedelta(days=365)  # ...a year past the latest seen
    (kit.data / "clock-seen.json").write_text(json.dumps({"latest": a_year_ago.isoformat()}))
    before = kit_files(kit.data)
    done = sync(config, "--retention-only")
    assert done.returncode == 0, done.stderr
    assert "nothing was erased: the clock jumped 365 days ahead of the last known time" in (
        done.stdout
    )
    assert kit_files(kit.data) == before
    (held,) = [r for r in lib.audit.rows() if r.event == "retention held"]
    assert held.detail["reason"].startswith("the clock jumped 365 days ahead")
    (kit.data / "clock-seen.json").unlink()  # no jump: the film waits for the page instead
    done = sync(config, "--retention-only")
    assert f"{kit.film}: consent erase-by date" in done.stdout
    assert "waiting for your confirmation; confirm on the Settings page" in done.stdout
    assert kit_files(kit.data) == before


def test_a_damaged_sidecar_stays_on_the_kit_until_its_film_goes(
    kit: KitFiles, lib: Library, clock: FakeClock, boot: FakeBoot, tmp_path: Path
) -> None:
    """Set aside as ``.damaged``: kept on the card, never sent, never removed on its own;
    it goes with its film (retention after the safe copy, or erase now on request)."""
    rec = kit.data / "recordings"
    aside = {r: rec / f"{r}.thumbs.age.damaged" for r in (kit.film, kit.copy)}
    for path in aside.values():
        path.write_bytes(b"ciphertext cut short")
    lib.index.set_review_done(kit.film, True)
    syncer(lib, tmp_path / "usb", clock).run()
    (office,) = (tmp_path / "usb").iterdir()
    assert not [p.name for p in office.iterdir() if ".damaged" in p.name]  # never sent
    assert [e.recording for e in retention_of(lib, clock, boot, 7).run()] == [kit.film]
    assert not aside[kit.film].exists() and files_of(kit, kit.film) == []  # with its film
    assert aside[kit.copy].exists()  # its film is still here, so it stays
    cases.erase_film(lib, cases.Registry(lib.index), kit.copy)
    assert not aside[kit.copy].exists()  # erased on request: every file of it goes
