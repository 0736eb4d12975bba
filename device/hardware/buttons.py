"""Debounce and press/hold classification for the kit's buttons, with no GPIO in sight.

gpiozero's ``bounce_time`` is ignored by mock pins and handled differently by each real
pin library, so the kit does its own: the GPIO adapter feeds raw edges with timestamps
into a ``ButtonLogic`` and asks it which events are due. The clock belongs to the caller,
which is what lets the tests replay a bouncing contact in microseconds.

Rules, in the order a person would notice them:

* a change counts only once the contact has stayed put for ``debounce_s`` (so a burst of
  bounces, or a spike of electrical noise, is one change or none);
* with a hold time, a short press fires PRESS when the button comes back up, and a press
  that lasts ``hold_s`` fires HOLD while still held and nothing on release — a hold
  never also fires a press;
* without a hold time (the mark button) PRESS fires as soon as the press is certain.
"""

from __future__ import annotations

import enum


class ButtonEvent(enum.Enum):
    PRESS = "press"
    HOLD = "hold"


class ButtonLogic:
    """One button's debounced state machine, fed edges and polled for due events."""

    def __init__(self, *, debounce_s: float, hold_s: float | None) -> None:
        if debounce_s < 0:
            raise ValueError("debounce_s must not be negative")
        if hold_s is not None and hold_s <= debounce_s:
            raise ValueError("hold_s must be longer than debounce_s")
        self._debounce_s = debounce_s
        self._hold_s = hold_s
        self._stable = False  # the accepted (debounced) state: True while pressed
        self._raw = False
        self._raw_since = float("-inf")
        self._pressed_at = 0.0
        self._hold_fired = False

    @property
    def pressed(self) -> bool:
        """The debounced state."""
        return self._stable

    def edge(self, t: float, pressed: bool) -> list[ButtonEvent]:
        """Record a raw level change at time ``t``; returns events that fell due before it."""
        events = self.poll(t)
        if pressed != self._raw:
            self._raw = pressed
            self._raw_since = t
        return events

    def poll(self, t: float) -> list[ButtonEvent]:
        """Events due at time ``t`` (call at or after ``next_deadline()``)."""
        events: list[ButtonEvent] = []
        if self._raw != self._stable and t - self._raw_since >= self._debounce_s:
            events += self._accept(self._raw, self._raw_since)
        if self._hold_due(t):
            self._hold_fired = True
            events.append(ButtonEvent.HOLD)
        return events

    def next_deadline(self) -> float | None:
        """When ``poll`` may next have something to say, or None if only an edge can."""
        if self._raw != self._stable:
            return self._raw_since + self._debounce_s
        if self._stable and self._hold_s is not None and not self._hold_fired:
            return self._pressed_at + self._hold_s
        return None

    def _accept(self, pressed: bool, at: float) -> list[ButtonEvent]:
        self._stable = pressed
        if pressed:
            self._pressed_at = at
            self._hold_fired = False
            return [ButtonEvent.PRESS] if self._hold_s is None else []
        # Released: a short press counts now; a hold already fired while the button was down
        # (``edge`` polls at the release's own time first, so a late worker cannot miss it).
        if self._hold_s is None or self._hold_fired:
            return []
        return [ButtonEvent.PRESS]

    def _hold_due(self, t: float) -> bool:
        return (
            self._stable
            and self._hold_s is not None
            and not self._hold_fired
            and t - self._pressed_at >= self._hold_s
        )
