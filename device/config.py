"""The kit's settings: one typed, frozen ``Config`` whose fields are the declaration.

Each field carries its type (the annotation), default, one line of help and the rules of
what it may hold (``device.config_rules``); ``SETTINGS`` is derived from the fields, so
the table and the object cannot drift apart, and mypy checks every ``cfg.name``. A
``Config`` checks itself when built, however it is built (``load``, ``Config(...)`` in a
command or a test, ``dataclasses.replace``): a value out of range is a ``ConfigError``
when the kit starts, never a traceback later.

``load`` takes the defaults, then a TOML file (``vigkit run --config FILE``), then
``VIGKIT_<NAME>`` environment variables given by the composition root, and reports every
problem at once, with "did you mean" for misspelt names in the file. Other ``VIGKIT_*``
variables (``VIGKIT_BIN`` for systemd/verify.sh, ``VIGKIT_NO_APT``...) are not settings
and are ignored; one close to a setting's name gets a warning in the log, since the
environment cannot tell a typo from an unrelated variable. ``docs/configuration.md``
lists every setting with what it allows (a test keeps it in step).
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from device import config_rules as r
from device.errors import ConfigError

log = logging.getLogger(__name__)

ENV_PREFIX = "VIGKIT_"


def _setting(default: Any, help: str, *rules: r.Rule) -> Any:
    return field(default=default, metadata={"help": help, "rules": rules})


@dataclass(frozen=True)
class Config:
    """The loaded settings. Build with ``load`` (file, environment) or ``Config(...)``."""

    # _setting returns a dataclasses.field; ruff only knows int, str... to be safe there
    data_dir: Path = _setting(  # noqa: RUF009
        Path("/var/lib/vigkit"), "Folder holding keys, recordings and the index."
    )
    kit_name: str = _setting(
        "vigkit",
        "Name shown on the page and in the Wi-Fi label.",
        r.byte_length(1, 64, "a name"),
    )
    camera: str = _setting(
        "picamera2", "Camera to use: picamera2 or synthetic.", r.one_of("picamera2", "synthetic")
    )
    microphone: str = _setting(
        "", "Microphone name (part is enough), 'synthetic' or 'none'; empty: the first input."
    )
    fast: bool = _setting(False, "Synthetic sources run as fast as possible (tests, benchmarks).")
    width: int = _setting(
        1920, "Recorded picture width in pixels.", r.between(64, 1920, "pixels"), r.even()
    )
    height: int = _setting(
        1080, "Recorded picture height in pixels.", r.between(64, 1080, "pixels"), r.even()
    )
    fps: int = _setting(30, "Frames per second.", r.between(1, 60))
    # what the Pi's V4L2 H.264 encoder (bcm2835-codec) accepts
    bitrate: int = _setting(
        8_000_000,
        "H.264 bit rate in bits per second.",
        r.between(25_000, 25_000_000, "bits per second"),
    )
    button_pin: int = _setting(
        17, "GPIO (BCM number) of the record button, wired to ground.", r.between(0, 27)
    )
    led_pin: int = _setting(27, "GPIO (BCM number) of the status LED.", r.between(0, 27))
    mark_pin: int = _setting(
        0, "GPIO of the optional mark button; 0 when there is none.", r.between(0, 27)
    )
    # A hold shorter than a second would turn an ordinary press into a shutdown; it must
    # also outlast the buttons' debounce (device.hardware.gpio), which 1 s does by far.
    hold_seconds: float = _setting(
        3.0,
        "How long a hold of the record button asks for a safe shutdown.",
        r.between(1, 30, "seconds"),
    )
    # Below this there is no room for the film's last fragment, the index and the notes
    # once the card is full (issue #15: 0 left nothing for them). No upper bound: more
    # than the card holds is refused by the recorder in words ("less than a minute...").
    storage_reserve_mb: int = _setting(
        500,
        "Free space kept on the card; recording stops cleanly before it is used.",
        r.at_least(10, "MB"),
    )
    watchdog_seconds: float = _setting(
        3.0,
        "With no camera frame for this long, the camera is restarted.",
        r.between(0.5, 60, "seconds"),
    )
    # all interfaces: the phone reaches the page over the kit's own hotspot
    http_host: str = _setting(
        "0.0.0.0",  # noqa: S104
        "Address the phone page listens on.",
        r.ip_address(),
    )
    https: bool = _setting(
        True,
        "Serve the phone page over HTTPS with the kit's certificate (vigkit tls install); "
        "false only on a development machine: the passphrase and films would cross the "
        "Wi-Fi in clear.",
    )
    https_port: int = _setting(443, "Port of the phone page over HTTPS.", r.between(1, 65535))
    http_port: int = _setting(
        80,
        "Port of plain HTTP: a landing page that sends phones to HTTPS, and the phones' "
        "connectivity checks (with https = false: the page itself).",
        r.between(1, 65535),
    )
    lock_minutes: float = _setting(
        15.0,
        "The page locks itself after this many idle minutes.",
        r.above(0, 24 * 60, "minutes"),
    )
    allow_downloads: bool = _setting(
        False, "Let a phone save decrypted clips and stills; each download is in the audit log."
    )
    sync_remote: str = _setting(
        "", "Where sync sends files: an rclone remote:path (or a folder); empty: sync is off."
    )
    rclone_config: str = _setting(
        "", "The rclone config file for sync_remote; empty: rclone's own."
    )
    sync_stall_seconds: float = _setting(
        120.0,
        "A sync with nothing moving for this long is stopped as a lost connection.",
        r.between(5, 3600, "seconds"),
    )
    retention_days: float = _setting(
        7.0,
        "Days a synced, verified film stays on the kit before it is removed.",
        r.between(0, 365, "days"),
    )
    # The phone may set any date up to 2100; a jump beyond this is believed for erasing
    # only once the practitioner confirms it on the page (issue #15, finding 9).
    clock_jump_days: float = _setting(
        30.0,
        "A clock this many days ahead of the last time the kit saw erases nothing "
        "until the date is confirmed on the Settings page.",
        r.between(1, 3650, "days"),
    )
    wifi_name: str = _setting(
        "",
        "The kit's hotspot name (set by vigkit setup).",
        r.empty_or(r.WIFI_NAME),
    )
    wifi_password: str = _setting(
        "",
        "The kit's hotspot password (WPA2; set by vigkit setup), for the Settings page's QR.",
        r.empty_or(r.WIFI_PASSWORD),
    )

    def __post_init__(self) -> None:
        given = {s.name: getattr(self, s.name) for s in SETTINGS}
        values, problems = _check(given, {})
        if problems:
            raise _error(problems)
        for name, value in values.items():  # e.g. a str made a Path, an int a float
            object.__setattr__(self, name, value)

    def replace(self, **changes: Any) -> Config:
        """A copy with some settings changed, checked like any other."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Setting:
    """One setting as declared: what the docs list and what ``load`` checks."""

    name: str
    type: type
    default: Any
    help: str
    rules: tuple[r.Rule, ...]

    @property
    def allowed(self) -> str:
        """What the setting allows, in words (the docs' "allowed" column)."""
        if self.rules:
            return " and ".join(rule.allowed for rule in self.rules)
        return {bool: "true or false", Path: "a folder path"}.get(self.type, "any text")


def _declared() -> tuple[Setting, ...]:
    types = get_type_hints(Config)
    return tuple(
        Setting(f.name, types[f.name], f.default, f.metadata["help"], f.metadata["rules"])
        for f in dataclasses.fields(Config)
    )


SETTINGS: tuple[Setting, ...] = _declared()
_BY_NAME = {s.name: s for s in SETTINGS}


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else f"{value}"


def _check(raw: Mapping[str, Any], origins: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Every setting of ``raw`` converted to its type and checked against its rules and
    the cross rules; and a sentence per problem, prefixed with where the value came from."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for s in SETTINGS:
        where = f"{origins[s.name]}: " if s.name in origins else ""
        try:
            value = r.convert(s.type, raw[s.name])
        except (TypeError, ValueError):
            want = r.TYPE_WORDS.get(s.type, s.type.__name__)
            problems.append(f"{where}{s.name} should be {want}, not {raw[s.name]!r}")
            continue
        if not all(rule.ok(value) for rule in s.rules):
            problems.append(
                f"{where}{s.name} = {_shown(raw[s.name])} is not allowed: it must be "
                f"{s.allowed}; change it, or remove it to use the default ({_shown(s.default)})"
            )
            continue
        values[s.name] = value
    for rule in r.CROSS_RULES:  # only over values that passed their own rules
        if all(name in values for name in rule.names) and (said := rule.problem(values)):
            wheres = sorted({origins[n] for n in rule.names if n in origins})
            problems.append(f"{', '.join(wheres)}: {said}" if wheres else said)
    return values, problems


def _error(problems: list[str]) -> ConfigError:
    if len(problems) == 1:
        return ConfigError(problems[0])
    return ConfigError("the settings have problems:\n  " + "\n  ".join(problems))


def _read_toml(file: Path, problems: list[str]) -> Mapping[str, Any]:
    try:
        return tomllib.loads(file.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        problems.append(f"{file}: cannot be read as TOML ({e})")
        return {}


def _from_environment(env: Mapping[str, str]) -> dict[str, str]:
    """``VIGKIT_<NAME>`` for the settings' names; any other ``VIGKIT_*`` is left alone."""
    found: dict[str, str] = {}
    for key, value in env.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name in _BY_NAME:
            found[name] = value
        elif close := difflib.get_close_matches(name, _BY_NAME, n=1, cutoff=0.8):
            log.warning(
                "%s is not a setting and is ignored (did you mean %s%s?)",
                key,
                ENV_PREFIX,
                close[0].upper(),
            )
    return found


def load(
    file: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    base: Config | None = None,
) -> Config:
    """Build a Config; raise one ConfigError naming every bad setting."""
    raw: dict[str, Any] = {s.name: getattr(base, s.name) if base else s.default for s in SETTINGS}
    origins: dict[str, str] = {}
    problems: list[str] = []
    sources: list[tuple[str, Mapping[str, Any]]] = []
    if file is not None:
        sources.append((str(file), _read_toml(file, problems)))
    if env:
        sources.append(("environment", _from_environment(env)))
    if overrides:
        sources.append(("command line", overrides))
    for origin, mapping in sources:
        for name, value in mapping.items():
            if name in _BY_NAME:
                raw[name], origins[name] = value, origin
                continue
            close = difflib.get_close_matches(name, _BY_NAME, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(f"{origin}: unknown setting {name!r}{hint}")
    values, bad = _check(raw, origins)
    if problems or bad:
        raise _error(problems + bad)
    return Config(**values)
