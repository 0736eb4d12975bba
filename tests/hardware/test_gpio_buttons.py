"""Debounce and press/hold classification, replayed on a virtual clock."""

from __future__ import annotations

import pytest

from device.hardware.buttons import ButtonEvent, ButtonLogic

PRESS, HOLD = ButtonEvent.PRESS, ButtonEvent.HOLD


def replay(logic: ButtonLogic, edges: list[tuple[float, bool]], until: float) -> list[object]:
    """Feed edges, polling every millisecond as the worker would; return (time, event)."""
    out: list[object] = []
    pending = sorted(edges)
    t = 0.0
    while t <= until:
        while pending and pending[0][0] <= t:
            at, pressed = pending.pop(0)
            out += [(round(t, 3), e) for e in logic.edge(at, pressed)]
        out += [(round(t, 3), e) for e in logic.poll(t)]
        t = round(t + 0.001, 6)
    return out


def events(logic: ButtonLogic, edges: list[tuple[float, bool]], until: float) -> list[object]:
    return [e for _, e in replay(logic, edges, until)]  # type: ignore[misc]


def main_button() -> ButtonLogic:
    return ButtonLogic(debounce_s=0.05, hold_s=3.0)


def test_short_press_fires_once_on_release() -> None:
    timed = replay(main_button(), [(1.0, True), (1.2, False)], until=2.0)
    assert timed == [(1.25, PRESS)]


def test_hold_fires_while_held_and_not_again_on_release() -> None:
    timed = replay(main_button(), [(1.0, True), (5.0, False)], until=6.0)
    assert timed == [(4.0, HOLD)]


def test_release_just_before_hold_time_is_a_press() -> None:
    assert events(main_button(), [(1.0, True), (3.9, False)], until=5.0) == [PRESS]


def test_double_press_is_two_presses() -> None:
    edges = [(1.0, True), (1.12, False), (1.3, True), (1.42, False)]
    assert events(main_button(), edges, until=2.0) == [PRESS, PRESS]


def test_bouncing_contact_is_one_press() -> None:
    bounces = [(1.0 + i * 0.002, i % 2 == 0) for i in range(9)]  # ends pressed at 1.016
    release = [(1.2 + i * 0.003, i % 2 == 1) for i in range(7)]  # ends released at 1.218
    assert events(main_button(), bounces + release, until=2.0) == [PRESS]


def test_noise_spikes_shorter_than_debounce_are_ignored() -> None:
    spikes = [(t, True) for t in (1.0, 2.0, 3.0)] + [(t + 0.01, False) for t in (1.0, 2.0, 3.0)]
    assert events(main_button(), spikes, until=4.0) == []


def test_mark_button_fires_on_press_without_waiting_for_release() -> None:
    mark = ButtonLogic(debounce_s=0.05, hold_s=None)
    timed = replay(mark, [(1.0, True), (6.0, False)], until=7.0)
    assert timed == [(1.05, PRESS)]


def test_late_poll_still_tells_hold_from_press() -> None:
    logic = main_button()  # a worker that was stuck sees both edges only at t=10
    seen = logic.edge(0.0, True) + logic.edge(3.5, False) + logic.poll(10.0)
    assert seen == [HOLD]
    short = main_button()
    seen = short.edge(0.0, True) + short.edge(0.5, False) + short.poll(10.0)
    assert seen == [PRESS]


def test_next_deadline_says_when_to_look_again() -> None:
    logic = main_button()
    assert logic.next_deadline() is None
    logic.edge(1.0, True)
    assert logic.next_deadline() == pytest.approx(1.05)
    logic.poll(1.05)
    assert logic.next_deadline() == pytest.approx(4.0)


@pytest.mark.parametrize(("debounce", "hold"), [(-0.01, 3.0), (0.05, 0.05), (0.1, 0.01)])
def test_nonsense_timings_are_refused(debounce: float, hold: float) -> None:
    with pytest.raises(ValueError):
        ButtonLogic(debounce_s=debounce, hold_s=hold)
