"""Recording ids never collide: the Pi has no real-time clock, so once the clock is set
back the same second comes round again. The film is created exclusively before anything
else of the recording is written, so a taken id is refused and another one drawn."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from device import age
from device.kit.assembly import Kit
from device.library import layout
from device.recording import recorder

FIXED = datetime(2026, 11, 21, 10, 32, 5, tzinfo=UTC)


def _record(kit: Kit, seconds: float = 1.2) -> str:
    rec_id = kit.recorder.start()
    time.sleep(seconds)
    kit.recorder.stop()
    assert kit.recorder.wait(30)
    return rec_id


def test_a_forced_collision_never_overwrites_the_earlier_recording(
    kit: Kit, office: age.X25519Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a fixed clock and a fixed random part: the first two draws give the same id
    draws = iter(["0" * 12, "0" * 12, "1" * 12])
    monkeypatch.setattr(layout.secrets, "token_hex", lambda n: next(draws))
    monkeypatch.setattr(recorder, "new_recording_id", lambda: layout.new_recording_id(FIXED))
    first = _record(kit)
    assert first == "20261121T103205Z-000000000000"
    recordings = kit.library.data.recordings
    before = {p.name: p.read_bytes() for p in recordings.iterdir()}
    assert f"{first}.notes.age" in before and f"{first}.mp4.age" in before

    second = _record(kit)

    assert second == "20261121T103205Z-111111111111"
    after = {p.name: p.read_bytes() for p in recordings.iterdir() if p.name.startswith(first)}
    assert after == before  # not one byte of the earlier recording changed
    assert kit.library.index.get(first).size == len(before[f"{first}.mp4.age"])
    assert age.decrypt_bytes(after[f"{first}.mp4.age"], [office])
    assert kit.library.data.derived(second, "notes").exists()
