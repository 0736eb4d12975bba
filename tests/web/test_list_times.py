"""The recordings list shows when a film really started: the kit's local time, put right
when the kit's clock was found wrong (and set from the phone) later in the same boot."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from device.kit.assembly import Kit
from device.kit.wall_clock import ClockBook, Correction
from device.library import State


@pytest.fixture(autouse=True)
def utc_kit() -> Iterator[None]:
    """The kit's zone is UTC here, so the expected text doesn't depend on this machine."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def _add(kit: Kit, rec_id: str, wall: datetime, mono_s: float) -> None:
    kit.library.index.add(rec_id, wall.isoformat(timespec="seconds"), round(mono_s * 1e6), True)
    kit.library.index.update(rec_id, state=State.COMPLETE, duration_s=60.0)


def test_a_clock_correction_puts_earlier_films_right(unlocked: FlaskClient, kit: Kit) -> None:
    wrong = datetime(2000, 1, 1, 0, 5, tzinfo=UTC)  # a Pi with no RTC after a power cut
    _add(kit, "20000101T000500Z-aaaa", wrong, mono_s=300.0)  # same boot as the correction
    _add(kit, "20261121T101500Z-bbbb", datetime(2026, 11, 21, 10, 15, tzinfo=UTC), 9000.0)
    origin = wrong.timestamp() - 300.0
    true_offset = datetime(2026, 11, 21, 9, 30, tzinfo=UTC).timestamp() - wrong.timestamp()
    ClockBook(kit.library.data).add(
        Correction(
            at="2026-11-21T09:40:00+00:00", boot_id="b", clock_origin_s=origin, offset_s=true_offset
        )
    )
    page = unlocked.get("/recordings").get_data(as_text=True)
    assert "21 Nov 2026, 09:30" in page  # the film made with the wrong clock, put right
    assert "21 Nov 2026, 10:15" in page  # a film from another boot is left as it was
    assert "Jan 2000" not in page


def test_an_unreadable_clock_record_still_lists_the_films(unlocked: FlaskClient, kit: Kit) -> None:
    _add(kit, "20261121T101500Z-cccc", datetime(2026, 11, 21, 10, 15, tzinfo=UTC), 5.0)
    (kit.library.data.root / "clock.json").write_text("{not json")
    response = unlocked.get("/recordings")
    assert response.status_code == 200
    assert "21 Nov 2026, 10:15" in response.get_data(as_text=True)
