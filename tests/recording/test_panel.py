"""The physical button drives the recorder and the LED follows it (gpiozero MockFactory)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from gpiozero.pins.mock import MockFactory

from device import age, cases
from device.errors import RecordingError
from device.hardware.base import LedPattern
from device.hardware.gpio import GpioControls
from device.kit.assembly import Kit
from device.kit.panel import Panel
from device.library import NotesStore, State
from device.library.exports import export_still
from device.recording.recorder import RecorderState
from device.sync import outbox
from tests.recording.conftest import wait_for

BUTTON, LED, MARK = 17, 27, 22


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


def test_press_records_press_stops_and_the_led_says_so(kit: Kit, panel) -> None:  # type: ignore[no-untyped-def]
    factory, controls, _ = panel
    wait_for(lambda: controls.pattern == LedPattern.READY)
    _press(factory, BUTTON)
    wait_for(lambda: kit.recorder.status.state == RecorderState.RECORDING)
    wait_for(lambda: controls.pattern == LedPattern.RECORDING)
    wait_for(lambda: factory.pin(LED).state == 1, 3)  # steady on
    time.sleep(1.5)
    _press(factory, MARK)
    time.sleep(0.3)
    _press(factory, BUTTON)
    wait_for(lambda: kit.recorder.status.state == RecorderState.IDLE, 30)
    wait_for(lambda: controls.pattern == LedPattern.READY)
    (row,) = kit.library.index.all()
    assert row.state == State.COMPLETE
    assert kit.library.data.derived(row.id, "markers").exists()


def test_hold_finishes_the_film_then_asks_to_shut_down(kit: Kit, panel) -> None:  # type: ignore[no-untyped-def]
    factory, controls, shutdowns = panel
    _press(factory, BUTTON)
    wait_for(lambda: kit.recorder.status.state == RecorderState.RECORDING)
    time.sleep(1.2)
    _press(factory, BUTTON, seconds=1.3)  # a hold
    wait_for(lambda: shutdowns == ["now"])
    (row,) = kit.library.index.all()
    assert row.state == State.COMPLETE and row.stop_reason == "the kit is shutting down"
    wait_for(lambda: controls.pattern == LedPattern.OFF)


def test_a_refused_shutdown_shows_the_fault_light(kit: Kit) -> None:
    """If the system refuses to power off, the kit is still on, so the LED must not go dark."""
    from device.kit.power import PowerOffRefused

    def refuse() -> None:
        raise PowerOffRefused("the system refused to shut down")

    factory = MockFactory()
    controls = GpioControls(BUTTON, LED, MARK, hold_seconds=1.0, pin_factory=factory)
    try:
        Panel(controls=controls, recorder=kit.recorder, shutdown=refuse)
        _press(factory, BUTTON, seconds=1.3)  # a hold while idle
        wait_for(lambda: controls.pattern == LedPattern.FAULT)
    finally:
        controls.close()
        factory.close()


def _button_film(kit: Kit, factory: MockFactory) -> str:
    _press(factory, BUTTON)
    wait_for(lambda: kit.recorder.status.state == RecorderState.RECORDING)
    time.sleep(1.2)
    _press(factory, BUTTON)
    wait_for(lambda: kit.recorder.status.state == RecorderState.IDLE, 30)
    return kit.library.index.all()[0].id


def test_the_button_films_into_the_consented_current_case(  # type: ignore[no-untyped-def]
    kit: Kit, panel, office: age.X25519Identity
) -> None:
    factory, _, _ = panel
    consent = {
        "given_on": "2026-11-02",
        "practitioner": True,
        "supervisor": False,
        "training": False,
        "stops_on_request": True,
    }
    case = cases.new_case(kit.cases, "F-0231", "", consent, [office], kit.recipients)
    cases.set_current(kit.cases, case.id, [office])
    row = kit.library.index.get(_button_film(kit, factory))
    assert (row.case_id, row.cycle, row.held) == (case.id, 1, False)
    assert row.id in [r.id for r in outbox.to_send(kit.library.index)]


def test_the_button_never_refuses_a_film_without_consent_goes_unassigned(  # type: ignore[no-untyped-def]
    kit: Kit, panel, office: age.X25519Identity
) -> None:
    factory, _, _ = panel
    first = kit.library.index.get(_button_film(kit, factory))  # no current case at all
    case = cases.new_case(kit.cases, "F-0232", "", None, [office], kit.recipients)
    cases.set_current(kit.cases, case.id, [office])  # a case, but no consent yet
    second = kit.library.index.get(_button_film(kit, factory))
    for row in (first, second):
        assert row.state == State.COMPLETE and row.held and row.case_id is None
    assert kit.cases.registry.unassigned() == [second.id, first.id]
    assert outbox.to_send(kit.library.index) == []
    with pytest.raises(RecordingError, match="not in a case yet"):
        export_still(
            kit.library,
            NotesStore(kit.library.data, kit.library.index, kit.library.audit),
            first.id,
            0.5,
            [office],
            kit.recipients,
        )
