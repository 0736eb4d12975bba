"""The kit's wall clock: check it against a phone's, set it, and remember each correction.

Most Pis have no real-time clock, so after a power cut the kit may boot with the wrong
date. The Settings page sends the phone's clock; when the two differ by more
than a minute it offers to set the kit's clock from the phone. Setting goes through
timedated (``timedatectl set-time``, D-Bus), which the polkit rule from
``scripts/install.sh`` allows for the kit's user and for that one action only; the
service itself has no right to touch the clock (``ProtectClock=yes``).

Each correction is written to the audit log and kept in ``clock.json`` in the data
folder: the boot it happened in and the offset. Recordings keep their wall-clock start
and their monotonic start; their difference identifies the boot's (wrong) clock, so
:func:`start_time` can show a recording made before the correction at the right time.
"""

from __future__ import annotations

import functools
import json
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from device.errors import LibraryError, VigKitError, card_full_as
from device.library import DataDir, Library, RecordingRow, atomic_write
from device.sync.clock_trust import ClockTrust

TOLERANCE_S = 60.0  # closer than this, a phone's clock is no better than the kit's
# A recording's "wall minus monotonic" is its boot's clock origin; started_at has whole
# seconds, so two origins within this are the same clock. Corrections are > TOLERANCE_S
# apart, so the match cannot pick the wrong one.
SAME_CLOCK_S = 5.0
BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")


class ClockError(VigKitError):
    """The kit's clock could not be read or set."""

    hint = "Check the date on your phone; the kit keeps recording either way."


class ClockSetter(Protocol):
    def __call__(self, when: datetime) -> None:
        """Set the system's wall clock to ``when`` (timezone-aware)."""


class TimedatectlSetter:
    """The real setter: ``timedatectl set-time`` over D-Bus to systemd-timedated.

    It cannot run in CI (no systemd, and no rule granting it); tests use a fake setter.
    """

    def __init__(self, program: str = "timedatectl", timeout_s: float = 20.0) -> None:
        self._program = program
        self._timeout_s = timeout_s

    def __call__(self, when: datetime) -> None:
        stamp = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        command = [self._program, "--no-ask-password", "set-time", stamp]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=self._timeout_s, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise ClockError(f"the kit's clock could not be set: {e}") from e
        if done.returncode == 0:
            return
        said = (done.stderr or done.stdout).strip()
        if "synchronization is enabled" in said:
            raise ClockError(
                "the kit's clock is set from the internet (NTP), so it cannot be set by hand",
                hint="Run scripts/setup-hotspot.sh hotspot, which turns NTP off on the hotspot.",
            )
        if "denied" in said.lower() or "authentication" in said.lower():
            raise ClockError(
                "the kit is not allowed to set its clock",
                hint="Run scripts/install.sh again: it installs the rule that allows it.",
            )
        raise ClockError(f"the kit's clock could not be set: {said or done.returncode}")


class OwnClock:
    """A clock of this process's own, for the demo: it starts at this computer's time,
    and setting it moves only itself, never the computer's clock (no ``timedatectl``).

    ``now`` is the Settings page's ``wall``; the clock itself is its ``set_clock``.
    """

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._offset_s = 0.0

    def now(self) -> float:
        return self._wall() + self._offset_s

    def __call__(self, when: datetime) -> None:
        self._offset_s = when.timestamp() - self._wall()


@dataclass(frozen=True)
class ClockCheck:
    kit: datetime
    phone: datetime
    offset_s: float  # phone minus kit

    @property
    def needs_setting(self) -> bool:
        return abs(self.offset_s) > TOLERANCE_S


@dataclass(frozen=True)
class Correction:
    at: str  # the corrected time it was made, ISO 8601 UTC
    boot_id: str
    clock_origin_s: float  # the wrong clock's wall time minus monotonic time, seconds
    offset_s: float  # added to the wrong clock's times to get the right ones


def check(phone_epoch_s: float, *, wall: Callable[[], float] = time.time) -> ClockCheck:
    now = wall()
    return ClockCheck(_utc(now), _utc(phone_epoch_s), phone_epoch_s - now)


def read_boot_id(path: Path = BOOT_ID_FILE) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


class ClockBook:
    """The corrections made on this kit, in ``<data>/clock.json`` (no personal data)."""

    def __init__(self, data: DataDir) -> None:
        self.path = data.root / "clock.json"

    def load(self) -> list[Correction]:
        try:
            raw = json.loads(self.path.read_text())
            return [Correction(**item) for item in raw["corrections"]]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise LibraryError(
                f"the kit's clock corrections ({self.path}) cannot be read: {e}",
                hint="Recordings show the kit's own clock until it is fixed; "
                "moving the file away keeps everything else working.",
            ) from e

    def add(self, correction: Correction) -> None:
        items = [asdict(c) for c in [*self.load(), correction]]
        text = json.dumps({"corrections": items}, indent=1) + "\n"
        atomic_write(self.path, text.encode(), 0o600)


def set_from_phone(
    library: Library,
    phone_epoch_s: float,
    setter: ClockSetter,
    *,
    wall: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
    boot_id: Callable[[], str] = read_boot_id,
) -> Correction | None:
    """Set the kit's clock to the phone's when they differ by more than a minute; record
    the correction (audit log and clock.json) and return it. None: nothing to correct."""
    before_wall, before_mono = wall(), monotonic()
    offset = phone_epoch_s - before_wall
    if abs(offset) <= TOLERANCE_S:
        return None
    setter(_utc(phone_epoch_s))
    correction = Correction(
        at=_utc(phone_epoch_s).isoformat(timespec="seconds"),
        boot_id=boot_id(),
        clock_origin_s=round(before_wall - before_mono, 3),
        offset_s=round(offset, 3),
    )
    # the clock is already right: a full card loses only the note of the correction
    with card_full_as("the kit's clock was set, but the change could not be noted"):
        ClockBook(library.data).add(correction)
        library.audit.append(
            "clock set", offset_s=round(offset, 1), boot_id=correction.boot_id, source="phone"
        )
    return correction


def ntp_synchronized(program: str = "timedatectl") -> bool:
    """timedated's NTPSynchronized: the kernel's clock is kept by NTP (at the office)."""
    try:
        done = subprocess.run(
            [program, "show", "--property=NTPSynchronized", "--value"],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False  # no systemd (a container, the demo): not known to be right
    return done.returncode == 0 and done.stdout.strip() == "yes"


@functools.lru_cache(maxsize=1)
def _ntp_in(window: int) -> bool:
    return ntp_synchronized()


def ntp_recently() -> bool:
    """:func:`ntp_synchronized`, asked at most every 30 s: the Settings page polls."""
    return _ntp_in(int(time.monotonic() // 30))


def ntp_of(setter: ClockSetter) -> Callable[[], bool]:
    """Whether NTP keeps the kit's clock: only when the kit's clock is this computer's,
    set through timedated (``vigkit run``); the demo's own clock and tests' fakes have none,
    and asking would reach this computer's timedatectl."""
    return ntp_recently if isinstance(setter, TimedatectlSetter) else lambda: False


def clock_trust(
    data: DataDir,
    jump_days: float,
    *,
    boot_id: Callable[[], str] = read_boot_id,
    ntp: Callable[[], bool] = ntp_recently,
) -> ClockTrust:
    """Retention's clock check: set this boot by NTP or by a phone (a correction in
    clock.json with this boot's id; an unreadable clock.json counts as not set)."""

    def set_this_boot() -> bool:
        if ntp():
            return True
        this = boot_id()
        try:
            return bool(this) and any(c.boot_id == this for c in ClockBook(data).load())
        except LibraryError:
            return False

    return ClockTrust(data, jump_days=jump_days, set_this_boot=set_this_boot)


def start_time(row: RecordingRow, corrections: Sequence[Correction]) -> datetime:
    """When ``row`` really started (UTC): its recorded start, corrected when the kit's
    clock was found wrong, later in the same boot, by a :class:`Correction`."""
    try:
        recorded = datetime.fromisoformat(row.started_at)
    except ValueError as e:
        raise LibraryError(f"recording {row.id} has no readable start time") from e
    if recorded.tzinfo is None:
        recorded = recorded.replace(tzinfo=UTC)
    origin = recorded.timestamp() - row.started_mono_us / 1e6
    for c in corrections:
        if abs(origin - c.clock_origin_s) <= SAME_CLOCK_S:
            return recorded + timedelta(seconds=c.offset_s)
    return recorded


def _utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)
