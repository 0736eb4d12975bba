"""Whether the kit's wall clock may be trusted to erase anything (issue #15, finding 9).

Most Pis have no real-time clock and the phone may set any date up to 2100, so retention
and erase-by dates act only on a clock that is trustworthy now:

- set this boot from a phone or NTP (``set_this_boot``, given by the composition root:
  timedatectl's NTPSynchronized, or a correction in ``clock.json`` with this boot's id);
- not earlier than the latest time the kit has seen (a durable high-water mark in
  ``<data>/clock-seen.json``, raised on each run, sync and recording by :meth:`see`);
- not more than ``jump_days`` ahead of that mark, unless the practitioner confirmed the
  date on the page (:meth:`confirm`, which raises the mark to now).

The mark is only ever raised by a trusted clock, so a wrong date cannot move it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from device.errors import LibraryError
from device.library import DataDir, atomic_write

log = logging.getLogger(__name__)

# a clock set back by less than this (a phone a few seconds behind) is still trusted
SLACK = timedelta(minutes=5)
MARK_FILE = "clock-seen.json"


@dataclass(frozen=True)
class Trust:
    ok: bool
    reason: str  # why not, in words; empty when ok
    jumped: bool = False  # a confirmation on the page would make it ok


class ClockTrust:
    def __init__(
        self, data: DataDir, *, jump_days: float, set_this_boot: Callable[[], bool]
    ) -> None:
        self.path = data.root / MARK_FILE
        self._jump = timedelta(days=jump_days)
        self._set_this_boot = set_this_boot

    def latest_seen(self) -> datetime | None:
        try:
            return datetime.fromisoformat(json.loads(self.path.read_text())["latest"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise LibraryError(
                f"the kit's last known time ({self.path}) cannot be read: {e}",
                hint="Nothing is erased meanwhile; moving the file away lets the kit "
                "learn the time again from the phone.",
            ) from e

    def check(self, now: datetime) -> Trust:
        if not self._set_this_boot():
            return Trust(False, "the kit's clock was not set from a phone or NTP since it started")
        try:
            latest = self.latest_seen()
        except LibraryError as e:
            return Trust(False, e.message)
        if latest is None:
            return Trust(True, "")
        if now < latest - SLACK:
            return Trust(
                False, f"the clock says {_day(now)}, earlier than the kit last saw ({_day(latest)})"
            )
        if now - latest > self._jump:
            days = (now - latest).days
            return Trust(
                False,
                f"the clock jumped {days} days ahead of the last known time ({_day(latest)})",
                jumped=True,
            )
        return Trust(True, "")

    def see(self, now: datetime) -> None:
        """Raise the mark to ``now`` if the clock is trusted (never lower it)."""
        try:
            if self.check(now).ok:
                latest = self.latest_seen()
                if latest is None or now > latest:
                    self._write(now)
        except OSError as e:  # a full card: the mark stays lower, which only holds erasing
            log.warning("the kit's latest time seen was not saved: %s", e)

    def confirm(self, now: datetime) -> None:
        """The practitioner confirmed a jumped date on the page: it becomes the mark."""
        if self._set_this_boot():
            self._write(now)

    def _write(self, now: datetime) -> None:
        text = json.dumps({"latest": now.isoformat(timespec="seconds")}) + "\n"
        atomic_write(self.path, text.encode(), 0o600)


def _day(when: datetime) -> str:
    return when.strftime("%-d %b %Y")
