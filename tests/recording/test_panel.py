"""The physical button drives the recorder and the LED follows it (gpiozero MockFactory)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from device import age, config
from device.app import Kit, open_kit
from device.hardware.base import LedPattern
from device.hardware.gpio import GpioControls
from device.library import State
from device.panel import Panel
from device.recorder import RecorderState

BUTTON, LED, MARK = 17, 27, 22


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[Kit]:
    cfg = config.load(
        overrides={
            "data_dir": tmp_path / "kit",
            "camera": "synthetic",
            "microphone": "synthetic",
            "width": 320,
            "height": 180,
            "bitrate": 300_000,
            "storage_reserve_mb": 0,
        }
    )
    kit = open_kit(cfg, [age.X25519Identity.generate().recipient()])
    yield kit
    kit.close()


@pytest.fixture
def panel(kit: Kit) -> Iterator[tuple[MockFactory, GpioControls, list[str]]]:
    factory = MockFactory()
    controls = GpioControls(BUTTON, LED, MARK, hold_seconds=1.0, pin_factory=factory)
    shutdowns: list[str] = []
    Panel(controls=controls, recorder=kit.recorder, shutdown=lambda: shutdowns.append("now"))
    yield factory, controls, shutdowns
    controls.close()
    factory.close()


def _press(factory: MockFactory, pin: int, seconds: float = 0.15) -> None:
    factory.pin(pin).drive_low()
    time.sleep(seconds)
    factory.pin(pin).drive_high()


def _wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_press_records_press_stops_and_the_led_says_so(kit: Kit, panel) -> None:  # type: ignore[no-untyped-def]
    factory, controls, _ = panel
    assert controls.pattern == LedPattern.READY
    _press(factory, BUTTON)
    _wait_for(lambda: kit.recorder.status.state == RecorderState.RECORDING)
    assert controls.pattern == LedPattern.RECORDING
    _wait_for(lambda: factory.pin(LED).state == 1, 1)  # steady on
    time.sleep(1.5)
    _press(factory, MARK)
    time.sleep(0.3)
    _press(factory, BUTTON)
    _wait_for(lambda: kit.recorder.status.state == RecorderState.IDLE, 30)
    assert controls.pattern == LedPattern.READY
    (row,) = kit.library.index.all()
    assert row.state == State.COMPLETE
    assert kit.library.data.derived(row.id, "markers").exists()


def test_hold_finishes_the_film_then_asks_to_shut_down(kit: Kit, panel) -> None:  # type: ignore[no-untyped-def]
    factory, controls, shutdowns = panel
    _press(factory, BUTTON)
    _wait_for(lambda: kit.recorder.status.state == RecorderState.RECORDING)
    time.sleep(1.2)
    _press(factory, BUTTON, seconds=1.3)  # a hold
    _wait_for(lambda: shutdowns == ["now"])
    (row,) = kit.library.index.all()
    assert row.state == State.COMPLETE and row.stop_reason == "the kit is shutting down"
    assert controls.pattern == LedPattern.OFF
