"""GpioControls on gpiozero's MockFactory: real edges in, callbacks and LED timings out."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from gpiozero.pins.mock import MockFactory

from device.hardware.base import Controls, LedPattern
from device.hardware.gpio import GpioControls

BUTTON, LED, MARK = 17, 27, 22


class Recorder:
    """Collects (monotonic time, what) from the callbacks, which run on the worker thread."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, str]] = []
        self.changed = threading.Condition()

    def callback(self, what: str) -> Callable[[], None]:
        def record() -> None:
            with self.changed:
                self.seen.append((time.monotonic(), what))
                self.changed.notify_all()

        return record

    def wait_for(self, count: int, timeout: float = 5.0) -> list[str]:
        with self.changed:
            self.changed.wait_for(lambda: len(self.seen) >= count, timeout)
        return self.names()

    def names(self) -> list[str]:
        return [what for _, what in self.seen]


@pytest.fixture
def controls(mock_factory: MockFactory) -> Iterator[GpioControls]:
    gpio = GpioControls(BUTTON, LED, mark_pin=MARK, pin_factory=mock_factory)
    yield gpio
    gpio.close()


@pytest.fixture
def heard(controls: GpioControls) -> Recorder:
    recorder = Recorder()
    controls.on_press(recorder.callback("press"))
    controls.on_hold(recorder.callback("hold"))
    controls.on_mark(recorder.callback("mark"))
    return recorder


def tap(pin: object, seconds: float = 0.15) -> None:
    pin.drive_low()  # type: ignore[attr-defined]
    time.sleep(seconds)
    pin.drive_high()  # type: ignore[attr-defined]


def test_is_a_controls(controls: GpioControls) -> None:
    assert isinstance(controls, Controls)


def test_short_press(mock_factory: MockFactory, heard: Recorder) -> None:
    tap(mock_factory.pin(BUTTON))
    assert heard.wait_for(1) == ["press"]
    time.sleep(0.2)
    assert heard.names() == ["press"]


def test_hold_three_seconds_is_a_hold_not_a_press(
    mock_factory: MockFactory, heard: Recorder
) -> None:
    button = mock_factory.pin(BUTTON)
    pressed_at = time.monotonic()
    button.drive_low()
    assert heard.wait_for(1) == ["hold"]
    held_for = heard.seen[0][0] - pressed_at
    assert 2.95 <= held_for <= 3.6, held_for
    button.drive_high()
    time.sleep(0.3)
    assert heard.names() == ["hold"]


def test_double_press_is_two_presses(mock_factory: MockFactory, heard: Recorder) -> None:
    button = mock_factory.pin(BUTTON)
    tap(button, 0.12)
    time.sleep(0.15)
    tap(button, 0.12)
    assert heard.wait_for(2) == ["press", "press"]


def test_bounce_is_ignored(mock_factory: MockFactory, heard: Recorder) -> None:
    button = mock_factory.pin(BUTTON)
    for _ in range(5):  # a contact chattering on the way down, then held
        button.drive_low()
        button.drive_high()
    button.drive_low()
    time.sleep(0.2)
    for _ in range(5):  # and chattering on the way up
        button.drive_high()
        button.drive_low()
    button.drive_high()
    for _ in range(3):  # idle noise spikes, far shorter than 50 ms
        time.sleep(0.1)
        button.drive_low()
        button.drive_high()
    assert heard.wait_for(1) == ["press"]
    time.sleep(0.3)
    assert heard.names() == ["press"]


def test_mark_button(mock_factory: MockFactory, heard: Recorder) -> None:
    mark = mock_factory.pin(MARK)
    mark.drive_low()
    assert heard.wait_for(1) == ["mark"]  # fires while still pressed
    mark.drive_high()
    time.sleep(0.1)  # up for longer than the debounce, or it would be a bounce
    tap(mark)
    assert heard.wait_for(2) == ["mark", "mark"]


def test_a_failing_callback_does_not_stop_the_buttons(
    mock_factory: MockFactory, controls: GpioControls, heard: Recorder
) -> None:
    def broken() -> None:
        raise RuntimeError("handler bug")

    controls.on_press(broken)
    tap(mock_factory.pin(BUTTON))
    time.sleep(0.2)
    tap(mock_factory.pin(MARK))
    assert heard.wait_for(1) == ["mark"]


# --- LED --------------------------------------------------------------------------------

# What a person sees, written out independently of device.hardware.led: (lit, seconds).
BLINKING = {
    LedPattern.READY: [(True, 0.1), (False, 2.9)],
    LedPattern.SAVING: [(True, 0.1), (False, 0.1)],
    LedPattern.STORAGE_LOW: [(True, 0.15), (False, 0.15), (True, 0.15), (False, 1.55)],
    LedPattern.FAULT: [(True, 0.1), (False, 0.1)] * 2 + [(True, 0.1), (False, 1.3)],
}


def segments(pin: object) -> list[tuple[bool, float]]:
    """Completed (state, duration) runs from MockPin.states, whose timestamp is the time
    spent in the previous state."""
    states = pin.states  # type: ignore[attr-defined]
    return [(states[i].state, states[i + 1].timestamp) for i in range(1, len(states) - 1)]


@pytest.mark.parametrize("pattern", list(BLINKING), ids=lambda p: p.value)
def test_blinking_patterns(
    mock_factory: MockFactory, controls: GpioControls, pattern: LedPattern
) -> None:
    led = mock_factory.pin(LED)
    cycle = BLINKING[pattern]
    period = sum(seconds for _, seconds in cycle)
    led.clear_states()
    controls.show(pattern)
    time.sleep(max(period * 1.1 + 0.15, 0.7))
    seen = segments(led)
    expected = (cycle * 10)[: max(len(cycle), len(seen))]
    assert len(seen) >= len(cycle), seen
    for (lit, seconds), (want_lit, want_seconds) in zip(seen, expected, strict=False):
        assert lit == want_lit, seen
        assert seconds == pytest.approx(want_seconds, abs=0.08, rel=0.15), seen


@pytest.mark.parametrize(
    ("pattern", "lit"), [(LedPattern.RECORDING, True), (LedPattern.OFF, False)]
)
def test_steady_patterns(
    mock_factory: MockFactory, controls: GpioControls, pattern: LedPattern, lit: bool
) -> None:
    led = mock_factory.pin(LED)
    controls.show(LedPattern.SAVING)
    time.sleep(0.25)
    controls.show(pattern)
    led.clear_states()
    time.sleep(0.5)
    assert led.state == lit
    assert len(led.states) == 1, led.states  # nothing changed since


def test_showing_the_same_pattern_again_keeps_the_rhythm(
    mock_factory: MockFactory, controls: GpioControls
) -> None:
    led = mock_factory.pin(LED)
    led.clear_states()
    controls.show(LedPattern.STORAGE_LOW)
    for _ in range(5):  # the recorder refreshing its status must not restart the blink
        time.sleep(0.07)
        controls.show(LedPattern.STORAGE_LOW)
    time.sleep(0.2)
    seen = segments(led)[:3]
    assert [lit for lit, _ in seen] == [True, False, True], seen
    assert all(s == pytest.approx(0.15, abs=0.05) for _, s in seen), seen


def test_close_leaves_the_led_off_and_stops_its_threads(mock_factory: MockFactory) -> None:
    gpio = GpioControls(BUTTON, LED, pin_factory=mock_factory)
    gpio.show(LedPattern.RECORDING)
    gpio.show(LedPattern.SAVING)
    time.sleep(0.05)
    gpio.close()
    assert mock_factory.pin(LED).state is False
    ours = [t.name for t in threading.enumerate() if t.name.startswith(("led-", "gpio-"))]
    assert ours == []


def test_a_pattern_shown_after_close_is_ignored(mock_factory: MockFactory) -> None:
    """A status change racing shutdown must not start a thread writing to a closed pin."""
    gpio = GpioControls(BUTTON, LED, pin_factory=mock_factory)
    gpio.close()
    gpio.show(LedPattern.SAVING)
    assert gpio.pattern is None
    assert [t.name for t in threading.enumerate() if t.name.startswith("led-")] == []
