"""The kit's settings, declared as data: name, type, default and one line of help.

Values come from the defaults, then a TOML file (``vigkit run --config FILE``), then
``VIGKIT_<NAME>`` environment variables given by the composition root. Loading reports
every problem at once, with "did you mean" for misspelt names. ``docs/configuration.md``
lists every setting (a test keeps it in step with this table).
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from device.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "data_dir", Path, Path("/var/lib/vigkit"), "Folder holding keys, recordings and the index."
    ),
    Setting("kit_name", str, "vigkit", "Name shown on the page and in the Wi-Fi label."),
    Setting("camera", str, "picamera2", "Camera to use: picamera2 or synthetic."),
    Setting(
        "microphone",
        str,
        "",
        "Microphone name (part is enough), 'synthetic' or 'none'; empty: the first input.",
    ),
    Setting("fast", bool, False, "Synthetic sources run as fast as possible (tests, benchmarks)."),
    Setting("width", int, 1920, "Recorded picture width in pixels."),
    Setting("height", int, 1080, "Recorded picture height in pixels."),
    Setting("fps", int, 30, "Frames per second."),
    Setting("bitrate", int, 8_000_000, "H.264 bit rate in bits per second."),
    Setting("button_pin", int, 17, "GPIO (BCM number) of the record button, wired to ground."),
    Setting("led_pin", int, 27, "GPIO (BCM number) of the status LED."),
    Setting("mark_pin", int, 0, "GPIO of the optional mark button; 0 when there is none."),
    Setting(
        "hold_seconds", float, 3.0, "How long a hold of the record button asks for a safe shutdown."
    ),
    Setting(
        "storage_reserve_mb",
        int,
        500,
        "Free space kept on the card; recording stops cleanly before it is used.",
    ),
    Setting(
        "watchdog_seconds",
        float,
        3.0,
        "With no camera frame for this long, the camera is restarted.",
    ),
    # all interfaces: the phone reaches the page over the kit's own hotspot
    Setting("http_host", str, "0.0.0.0", "Address the phone page listens on."),  # noqa: S104
    Setting("http_port", int, 80, "Port of the phone page."),
    Setting("lock_minutes", float, 15.0, "The page locks itself after this many idle minutes."),
    Setting(
        "allow_downloads",
        bool,
        False,
        "Let a phone save decrypted clips and stills; each download is in the audit log.",
    ),
    Setting(
        "sync_remote",
        str,
        "",
        "Where sync sends files: an rclone remote:path (or a folder); empty: sync is off.",
    ),
    Setting(
        "rclone_config", str, "", "The rclone config file for sync_remote; empty: rclone's own."
    ),
    Setting(
        "sync_stall_seconds",
        float,
        120.0,
        "A sync with nothing moving for this long is stopped as a lost connection.",
    ),
    Setting(
        "retention_days",
        float,
        7.0,
        "Days a synced, verified film stays on the kit before it is removed.",
    ),
    Setting("wifi_name", str, "", "The kit's hotspot name (set by vigkit setup)."),
    Setting(
        "wifi_password",
        str,
        "",
        "The kit's hotspot password (WPA2; set by vigkit setup), for the Settings page's QR.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}
_TYPE_WORDS = {
    int: "whole number",
    float: "number",
    str: "text",
    Path: "folder path",
    bool: "yes/no",
}


@dataclass(frozen=True)
class Config:
    values: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def replace(self, **changes: Any) -> Config:
        return load(overrides=changes, base=self)


def _convert(setting: Setting, raw: Any) -> Any:
    if setting.type is bool and isinstance(raw, str):
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise ValueError(raw)
    if setting.type is int and isinstance(raw, float | bool):
        raise ValueError(raw)
    return setting.type(raw)


def load(
    file: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    base: Config | None = None,
) -> Config:
    """Build a Config; raise one ConfigError naming every bad setting."""
    values: dict[str, Any] = dict(base.values) if base else {s.name: s.default for s in SETTINGS}
    problems: list[str] = []
    sources: list[tuple[str, Mapping[str, Any]]] = []
    if file is not None:
        try:
            sources.append((str(file), tomllib.loads(file.read_text())))
        except (OSError, tomllib.TOMLDecodeError) as e:
            problems.append(f"{file}: cannot be read as TOML ({e})")
    if env:
        prefixed = {k[7:].lower(): v for k, v in env.items() if k.startswith("VIGKIT_")}
        sources.append(("environment", prefixed))
    if overrides:
        sources.append(("command line", overrides))
    for origin, mapping in sources:
        for name, raw in mapping.items():
            setting = _BY_NAME.get(name)
            if setting is None:
                close = difflib.get_close_matches(name, _BY_NAME, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                problems.append(f"{origin}: unknown setting {name!r}{hint}")
                continue
            try:
                values[name] = _convert(setting, raw)
            except (TypeError, ValueError):
                want = _TYPE_WORDS.get(setting.type, setting.type.__name__)
                problems.append(f"{origin}: {name} should be a {want}, not {raw!r}")
    if problems:
        raise ConfigError("the settings have problems:\n  " + "\n  ".join(problems))
    return Config(values)
