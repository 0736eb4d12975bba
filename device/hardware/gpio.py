"""The real button(s) and status LED, through gpiozero.

gpiozero only reports raw edges here (no ``bounce_time``, no ``hold_time``): debounce and
press/hold live in ``device.hardware.buttons``, which behaves the same on every pin
library and under gpiozero's ``MockFactory``. Pin callbacks only timestamp the edge and
queue it, so they never wait on the recorder; one worker thread turns edges into
events and calls the kit's callbacks. The LED is played by ``device.hardware.led``.

Wiring: each button between its GPIO and ground (the internal pull-up is used), the LED
through a resistor from its GPIO to ground.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from typing import Any

from device.errors import GpioError
from device.hardware.base import LedPattern
from device.hardware.buttons import ButtonEvent, ButtonLogic
from device.hardware.led import PatternPlayer
from device.threads import BackgroundThread

log = logging.getLogger(__name__)

Pin = int | str
_MAIN, _MARK = "main", "mark"
_IDLE_WAKE_S = 1.0  # an idle worker's nap; close() wakes it at once
_JOIN_TIMEOUT_S = 2.0


class GpioControls:
    """``Controls`` on real pins: a start/stop button (hold = shut down), a mark button, an LED."""

    def __init__(
        self,
        button_pin: Pin,
        led_pin: Pin,
        mark_pin: Pin | None = None,
        hold_seconds: float = 3.0,
        debounce_ms: int = 50,
        pin_factory: Any = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        debounce_s = debounce_ms / 1000
        self._logic = {_MAIN: ButtonLogic(debounce_s=debounce_s, hold_s=hold_seconds)}
        if mark_pin is not None:
            self._logic[_MARK] = ButtonLogic(debounce_s=debounce_s, hold_s=None)
        self._callbacks: dict[tuple[str, ButtonEvent], Callable[[], None]] = {}
        self._edges: queue.SimpleQueue[tuple[str, float, bool] | None] = queue.SimpleQueue()
        self._devices: list[Any] = []
        try:
            self._open_pins(button_pin, led_pin, mark_pin, pin_factory)
        except Exception as e:
            self._close_devices()
            raise GpioError(f"could not open the button or LED pins: {e}") from e
        self._player = PatternPlayer(self._write_led)
        self._worker = BackgroundThread(self._run, name="gpio-buttons", join_s=_JOIN_TIMEOUT_S)
        self._stop = self._worker.stopping
        self._worker.start()

    # --- Controls ------------------------------------------------------------------------

    def on_press(self, callback: Callable[[], None]) -> None:
        self._callbacks[(_MAIN, ButtonEvent.PRESS)] = callback

    def on_hold(self, callback: Callable[[], None]) -> None:
        self._callbacks[(_MAIN, ButtonEvent.HOLD)] = callback

    def on_mark(self, callback: Callable[[], None]) -> None:
        self._callbacks[(_MARK, ButtonEvent.PRESS)] = callback

    def show(self, pattern: LedPattern) -> None:
        self._player.show(pattern)

    @property
    def pattern(self) -> LedPattern | None:
        """The pattern being shown (None once closed)."""
        return self._player.pattern

    def close(self) -> None:
        self._stop.set()
        self._edges.put(None)  # wake the worker now rather than at its next idle look
        self._worker.join_within()
        self._player.close()
        self._close_devices()

    # --- pins ----------------------------------------------------------------------------

    def _open_pins(self, button: Pin, led: Pin, mark: Pin | None, factory: Any) -> None:
        from gpiozero import LED, Button  # imported here so the synthetic kit never needs it

        self._led = LED(led, pin_factory=factory)
        self._devices.append(self._led)
        for name, pin in ((_MAIN, button), (_MARK, mark)):
            if pin is None:
                continue
            button_device = Button(pin, pull_up=True, bounce_time=None, pin_factory=factory)
            self._devices.append(button_device)
            button_device.when_pressed = self._edge_callback(name, True)
            button_device.when_released = self._edge_callback(name, False)

    def _edge_callback(self, name: str, pressed: bool) -> Callable[[], None]:
        def queue_edge() -> None:  # runs on the pin library's thread: stamp and go
            self._edges.put((name, self._clock(), pressed))

        return queue_edge

    def _write_led(self, lit: bool) -> None:
        self._led.value = lit

    def _close_devices(self) -> None:
        for device in reversed(self._devices):
            try:
                device.close()
            except Exception:  # closing is best effort; the process may be going down
                log.exception("could not close %r", device)
        self._devices.clear()

    # --- worker --------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                edge = self._edges.get(timeout=self._wait_s())
            except queue.Empty:
                edge = None
            if edge is not None:
                name, t, pressed = edge
                self._dispatch(name, self._logic[name].edge(t, pressed))
            now = self._clock()
            for name, logic in self._logic.items():
                self._dispatch(name, logic.poll(now))

    def _wait_s(self) -> float:
        deadlines = [
            d for d in (lg.next_deadline() for lg in self._logic.values()) if d is not None
        ]
        if not deadlines:
            return _IDLE_WAKE_S
        return min(_IDLE_WAKE_S, max(0.0, min(deadlines) - self._clock()))

    def _dispatch(self, name: str, events: list[ButtonEvent]) -> None:
        for event in events:
            callback = self._callbacks.get((name, event))
            if callback is None:
                continue
            try:
                callback()
            except Exception:  # one failing handler must not deafen the buttons
                log.exception("the %s %s handler failed", name, event.value)
