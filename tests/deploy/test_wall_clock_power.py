"""The kit's clock (check, set, corrections for films made with a wrong clock) and the
safe shutdown request. The real ``timedatectl`` and ``systemctl`` cannot act in CI, so
their error handling is driven by small stand-in programs that answer as they do."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from device.errors import HardwareError, LibraryError
from device.kit import power, wall_clock
from device.library import Library, RecordingRow, State
from tests.deploy.conftest import FakeSetter

T0 = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC).timestamp()


def _row(started_at: str, mono_s: float) -> RecordingRow:
    return RecordingRow(
        id="20260101T000000Z-abcd",
        seq=1,
        started_at=started_at,
        started_mono_us=int(mono_s * 1e6),
        state=State.COMPLETE,
        duration_s=10.0,
        size=0,
        sha256="",
        has_audio=True,
        mic_lost=False,
        camera_restarts=0,
        dropped_frames=0,
        stop_reason="",
    )


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    lib = Library(tmp_path / "data")
    yield lib
    lib.close()


def test_check_compares_with_a_minute_of_tolerance() -> None:
    assert not wall_clock.check(T0 + 59, wall=lambda: T0).needs_setting
    found = wall_clock.check(T0 - 3600, wall=lambda: T0)
    assert found.needs_setting and found.offset_s == -3600


def test_a_wrong_clock_is_set_recorded_and_films_before_it_corrected(library: Library) -> None:
    # The kit booted thinking it was 2026-03-01 09:00 (mono 100 s); it was really 11:30.
    wrong_wall, mono = T0, 100.0
    before = _row(_iso(wrong_wall - 50), mono - 50)  # recorded 50 s earlier, same boot
    earlier_boot = _row(_iso(wrong_wall - 86_400), 40.0)  # yesterday: another boot
    setter = FakeSetter()
    correction = wall_clock.set_from_phone(
        library,
        T0 + 9000,
        setter,
        wall=lambda: wrong_wall,
        monotonic=lambda: mono,
        boot_id=lambda: "b00t",
    )
    assert correction is not None and correction.offset_s == 9000
    assert setter.calls == [datetime.fromtimestamp(T0 + 9000, UTC)]
    stored = wall_clock.ClockBook(library.data).load()
    assert stored == [correction] and stored[0].boot_id == "b00t"
    assert oct(wall_clock.ClockBook(library.data).path.stat().st_mode & 0o777) == "0o600"
    row = library.audit.rows()[-1]
    assert row.event == "clock set" and row.detail["offset_s"] == 9000
    # The film from the same boot moves by the offset; the one from another boot doesn't.
    assert wall_clock.start_time(before, stored) == datetime.fromtimestamp(T0 - 50 + 9000, UTC)
    assert wall_clock.start_time(earlier_boot, stored) == datetime.fromisoformat(
        earlier_boot.started_at
    )
    # A film made after the correction (clock now right) is not moved again.
    after = _row(_iso(T0 + 9000 + 60), mono + 60)
    assert wall_clock.start_time(after, stored) == datetime.fromtimestamp(T0 + 9060, UTC)


def test_a_clock_that_is_nearly_right_is_left_alone(library: Library) -> None:
    setter = FakeSetter()
    assert wall_clock.set_from_phone(library, T0 + 30, setter, wall=lambda: T0) is None
    assert setter.calls == [] and wall_clock.ClockBook(library.data).load() == []
    assert [r.event for r in library.audit.rows()] == []


def test_a_damaged_corrections_file_is_a_clear_error(library: Library) -> None:
    book = wall_clock.ClockBook(library.data)
    book.path.write_text("{not json")
    with pytest.raises(LibraryError, match="cannot be read"):
        book.load()


def _program(folder: Path, name: str, script: str) -> Path:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.mark.parametrize(
    ("said", "words"),
    [
        ("Failed to set time: Automatic time synchronization is enabled", "NTP"),
        ("Failed to set time: Access denied", "not allowed"),
        ("Failed to set time: Interactive authentication required.", "not allowed"),
        ("Failed to connect to bus: No such file or directory", "could not be set"),
    ],
)
def test_timedatectl_refusals_become_clear_errors(tmp_path: Path, said: str, words: str) -> None:
    fake = _program(tmp_path, "timedatectl", f'echo "{said}" >&2; exit 1')
    with pytest.raises(wall_clock.ClockError, match=words) as caught:
        wall_clock.TimedatectlSetter(str(fake))(datetime.fromtimestamp(T0, UTC))
    assert caught.value.hint


def test_timedatectl_is_given_the_time_in_utc(tmp_path: Path) -> None:
    out = tmp_path / "args.txt"
    fake = _program(tmp_path, "timedatectl", f'printf "%s\\n" "$@" > "{out}"')
    wall_clock.TimedatectlSetter(str(fake))(datetime.fromtimestamp(T0, UTC))
    assert out.read_text().splitlines() == [
        "--no-ask-password",
        "set-time",
        "2026-03-01 09:00:00 UTC",
    ]


def test_poweroff_asks_systemctl_and_reports_a_refusal(tmp_path: Path) -> None:
    out = tmp_path / "args.txt"
    ok = _program(tmp_path, "systemctl-ok", f'printf "%s\\n" "$@" > "{out}"')
    power.request_poweroff((str(ok), *power.POWEROFF_COMMAND[1:]))
    assert out.read_text().splitlines() == ["--no-ask-password", "--no-wall", "poweroff"]
    refused = _program(
        tmp_path,
        "systemctl-no",
        'echo "Call to PowerOff failed: Access denied" >&2; exit 1',
    )
    with pytest.raises(HardwareError, match="refused to power off: Call to PowerOff") as e:
        power.request_poweroff((str(refused), "poweroff"))
    assert "install.sh" in e.value.hint
    with pytest.raises(power.PowerOffRefused, match="not installed"):
        power.request_poweroff((str(tmp_path / "no-such-program"), "poweroff"))


def test_the_real_poweroff_command_is_systemctl() -> None:
    assert power.POWEROFF_COMMAND[0] == "systemctl" and "poweroff" in power.POWEROFF_COMMAND
    assert os.access("/usr/bin/systemctl", os.X_OK)  # installed by bootstrap (systemd)
