"""The kit's front panel: the physical button(s) drive the recorder, the LED shows its state.

Press = start/stop, hold = safe shutdown request, second button = a marker now. The LED
follows the recorder's state, and says "storage low" while idle with little space left.
Nothing here may raise into the button thread: a refusal (a full card) shows on the LED.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from device.errors import StorageFull, VigKitError
from device.hardware.base import Controls, LedPattern
from device.recording.recorder import Recorder, RecorderState, Status

log = logging.getLogger(__name__)

LOW_STORAGE_MINUTES = 20.0  # less than two visits' worth of film left

_PATTERNS = {
    RecorderState.RECORDING: LedPattern.RECORDING,
    RecorderState.FINALIZING: LedPattern.SAVING,
    RecorderState.FAULT: LedPattern.FAULT,
}


class Panel:
    def __init__(
        self, *, controls: Controls, recorder: Recorder, shutdown: Callable[[], None]
    ) -> None:
        self._controls = controls
        self._recorder = recorder
        self._shutdown = shutdown
        controls.on_press(self._press)
        controls.on_hold(self._hold)
        controls.on_mark(recorder.add_marker)
        recorder.subscribe(self._show)
        self._show(recorder.status)

    def _press(self) -> None:
        try:
            self._recorder.toggle()
        except VigKitError as e:
            log.warning("the button could not start a recording: %s", e.message)
            self._controls.show(
                LedPattern.STORAGE_LOW if isinstance(e, StorageFull) else LedPattern.FAULT
            )

    def _hold(self) -> None:
        log.info("button held: finishing any recording, then shutting down")
        self._recorder.stop(reason="the kit is shutting down")
        self._controls.show(LedPattern.OFF)
        try:
            self._shutdown()
        except VigKitError as e:  # the kit stays on: the LED must not pretend otherwise
            log.error("the kit could not shut down: %s %s", e.message, e.hint or "")
            self._controls.show(LedPattern.FAULT)

    def _show(self, status: Status) -> None:
        pattern = _PATTERNS.get(status.state)
        if pattern is None:
            low = self._recorder.minutes_left() < LOW_STORAGE_MINUTES
            pattern = LedPattern.STORAGE_LOW if low else LedPattern.READY
        self._controls.show(pattern)
