"""What a setting may hold: its type, rules on one value, and rules that tie settings together.

``convert`` takes a TOML value of the right type, or the text of an environment variable.

A ``Rule`` is a test and the words that say what it allows ("from 1 to 60 seconds"); the
same words appear in the error a practitioner reads and in ``docs/configuration.md``'s
"allowed" column (a test keeps them in step). ``CROSS_RULES`` are the checks that need
more than one setting, each naming the settings it reads and saying, in a sentence,
what is wrong and what to change.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The Pi 0-4 hardware H.264 encoder manages about 1080p30 (docs/build.md); a Pi 5
# encodes in software at about the same rate. Picture size times frame rate above this
# drops frames, so it is refused rather than recorded badly.
MAX_PIXELS_PER_SECOND = 1920 * 1080 * 30
# The capture watchdog restarts a camera that sends no frame for watchdog_seconds; it
# must wait for a few frames or it restarts a camera that is only slow.
WATCHDOG_FRAMES = 3


TYPE_WORDS = {
    int: "a whole number",
    float: "a number",
    str: "text in quotes",
    Path: "a path in quotes",
    bool: "true or false",
}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def convert(kind: type, raw: Any) -> Any:
    """``raw`` as ``kind``: a TOML value of the right type, or text (the environment)."""
    if isinstance(raw, str) and kind is bool and raw.lower() in _TRUE | _FALSE:
        return raw.lower() in _TRUE
    if isinstance(raw, str) and kind in (int, float, Path):
        return kind(raw.strip()) if raw.strip() else _bad(raw)
    if isinstance(raw, bool):
        return raw if kind is bool else _bad(raw)
    if kind is float and isinstance(raw, int | float):
        return float(raw)
    if kind is Path and isinstance(raw, Path):
        return raw
    return raw if type(raw) is kind else _bad(raw)


def _bad(raw: Any) -> Any:
    raise ValueError(raw)


@dataclass(frozen=True)
class Rule:
    """A test on one value and the words that say what it allows."""

    allowed: str
    test: Callable[[Any], bool]

    def ok(self, value: Any) -> bool:
        return self.test(value)


def _number(x: float) -> str:
    return f"{x:,.0f}" if x == int(x) else f"{x:g}"


def between(low: float, high: float, unit: str = "") -> Rule:
    words = f"from {_number(low)} to {_number(high)}" + (f" {unit}" if unit else "")
    return Rule(words, lambda v: bool(low <= v <= high))


def at_least(low: float, unit: str = "") -> Rule:
    words = f"at least {_number(low)}" + (f" {unit}" if unit else "")
    return Rule(words, lambda v: bool(v >= low))


def above(low: float, high: float, unit: str = "") -> Rule:
    """More than ``low`` (not equal), at most ``high``."""
    words = f"more than {_number(low)} and at most {_number(high)}" + (f" {unit}" if unit else "")
    return Rule(words, lambda v: bool(low < v <= high))


def one_of(*choices: str) -> Rule:
    return Rule(" or ".join(choices), lambda v: v in choices)


def even() -> Rule:
    return Rule("an even number", lambda v: v % 2 == 0)


def byte_length(low: int, high: int, what: str) -> Rule:
    return Rule(f"{what} {low} to {high} bytes long", lambda v: low <= len(v.encode()) <= high)


def empty_or(rule: Rule) -> Rule:
    return Rule(f"empty, or {rule.allowed}", lambda v: v == "" or rule.ok(v))


def wpa2_password() -> Rule:
    return Rule(
        "8 to 63 plain characters (WPA2)",
        lambda v: 8 <= len(v) <= 63 and v.isascii() and v.isprintable(),
    )


WIFI_NAME = byte_length(1, 32, "a name")  # an SSID
WIFI_PASSWORD = wpa2_password()


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def ip_address() -> Rule:
    return Rule("an IP address such as 0.0.0.0 (all) or 127.0.0.1", _is_ip)


@dataclass(frozen=True)
class CrossRule:
    """A check across settings: the names it reads and a sentence when they disagree."""

    names: tuple[str, ...]
    problem: Callable[[Mapping[str, Any]], str | None]


def _pins_differ(v: Mapping[str, Any]) -> str | None:
    pins = {"button_pin": v["button_pin"], "led_pin": v["led_pin"]}
    if v["mark_pin"]:  # 0: no mark button
        pins["mark_pin"] = v["mark_pin"]
    seen: dict[int, str] = {}
    for name, pin in pins.items():
        if pin in seen:
            return (
                f"{seen[pin]} and {name} are both GPIO {pin}, but each needs its own pin; "
                "set them to the GPIOs the button and LED are wired to (docs/build.md)"
            )
        seen[pin] = name
    return None


def _camera_can_keep_up(v: Mapping[str, Any]) -> str | None:
    rate = v["width"] * v["height"] * v["fps"]
    if v["camera"] != "picamera2" or rate <= MAX_PIXELS_PER_SECOND:
        return None
    return (
        f"{v['width']}x{v['height']} at {v['fps']} fps is more than the Pi's H.264 encoder "
        "can keep up with (about 1920x1080 at 30 fps); lower width, height or fps"
    )


def _watchdog_waits_for_frames(v: Mapping[str, Any]) -> str | None:
    if v["watchdog_seconds"] * v["fps"] >= WATCHDOG_FRAMES:
        return None
    return (
        f"watchdog_seconds = {v['watchdog_seconds']:g} is shorter than {WATCHDOG_FRAMES} "
        f"frames at fps = {v['fps']}, so a slow camera would be restarted again and again; "
        f"set watchdog_seconds to at least {WATCHDOG_FRAMES / v['fps']:g}"
    )


def _ports_differ(v: Mapping[str, Any]) -> str | None:
    if not v["https"] or v["https_port"] != v["http_port"]:
        return None
    return (
        f"https_port and http_port are both {v['http_port']}, but HTTPS and plain HTTP "
        "each need their own port; the usual ones are 443 and 80"
    )


CROSS_RULES: tuple[CrossRule, ...] = (
    CrossRule(("https", "https_port", "http_port"), _ports_differ),
    CrossRule(("button_pin", "led_pin", "mark_pin"), _pins_differ),
    CrossRule(("camera", "width", "height", "fps"), _camera_can_keep_up),
    CrossRule(("watchdog_seconds", "fps"), _watchdog_waits_for_frames),
)
