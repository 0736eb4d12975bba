"""Settings are typed, declared data: every value is checked against its type and range
when the kit starts, problems are reported all at once in sentences a practitioner can
act on, other ``VIGKIT_*`` variables don't stop the kit, and every setting is documented.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import os
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import pytest

from device import cli, config
from device.commands import run
from device.errors import ConfigError
from device.hardware.buttons import ButtonLogic
from device.hardware.gpio import GpioControls

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs" / "configuration.md"
# Variables the project itself uses that are not settings (scripts, tests, verify.sh).
NOT_SETTINGS = [
    "VIGKIT_BIN",
    "VIGKIT_ON_PI",
    "VIGKIT_NO_APT",
]


def _file(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "kit.toml"
    f.write_text(text)
    return f


def _problem(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as e:
        config.load(_file(tmp_path, text))
    return str(e.value)


def test_defaults_then_file_then_environment(tmp_path: Path) -> None:
    f = _file(tmp_path, 'fps = 25\nkit_name = "north"\n')
    cfg = config.load(f, env={"VIGKIT_FPS": "15", "HOME": "/root"})
    assert (cfg.fps, cfg.kit_name, cfg.width) == (15, "north", 1920)


def test_values_have_their_declared_types(tmp_path: Path) -> None:
    f = _file(tmp_path, 'data_dir = "/srv/kit"\nhold_seconds = 2\n')
    cfg = config.load(f, env={"VIGKIT_FAST": "yes", "VIGKIT_LOCK_MINUTES": "5"})
    assert cfg.data_dir == Path("/srv/kit") and isinstance(cfg.data_dir, Path)
    assert (cfg.hold_seconds, cfg.fast, cfg.lock_minutes) == (2.0, True, 5.0)
    assert isinstance(cfg.hold_seconds, float) and isinstance(cfg.lock_minutes, float)
    for s in config.SETTINGS:
        assert isinstance(getattr(cfg, s.name), s.type), s.name
        assert s.help, s.name


def test_every_problem_is_reported_at_once_with_did_you_mean(tmp_path: Path) -> None:
    text = _problem(tmp_path, 'fsp = 25\nwidth = "wide"\nhold_seconds = 0\nlock_minutes = -1\n')
    assert text.startswith("the settings have problems:\n")
    assert "unknown setting 'fsp' (did you mean fps?)" in text
    assert "width should be a whole number, not 'wide'" in text
    assert "hold_seconds = 0 is not allowed" in text
    assert "lock_minutes = -1 is not allowed" in text


# (the file's lines, what the one problem must say)
PROBLEMS = [
    ("hold_seconds = 0", "hold_seconds = 0 is not allowed: it must be from 1 to 30 seconds"),
    ("hold_seconds = 0.05", "hold_seconds = 0.05 is not allowed: it must be from 1 to 30"),
    ("hold_seconds = 31", "hold_seconds = 31 is not allowed: it must be from 1 to 30 seconds"),
    ("lock_minutes = -1", "lock_minutes = -1 is not allowed: it must be more than 0 and at most"),
    ("lock_minutes = 0", "lock_minutes = 0 is not allowed: it must be more than 0"),
    ("lock_minutes = 1441", "lock_minutes = 1441 is not allowed"),
    ("width = 1921", "width = 1921 is not allowed: it must be from 64 to 1,920 pixels and an even"),
    ("width = 641", "width = 641 is not allowed: it must be from 64 to 1,920 pixels and an even"),
    ("width = 32", "width = 32 is not allowed"),
    ("height = 1082", "height = 1082 is not allowed: it must be from 64 to 1,080 pixels"),
    ("height = 181", "height = 181 is not allowed"),
    ("fps = 0", "fps = 0 is not allowed: it must be from 1 to 60"),
    ("fps = 61", "fps = 61 is not allowed: it must be from 1 to 60"),
    ("bitrate = 20000", "bitrate = 20000 is not allowed: it must be from 25,000 to 25,000,000"),
    ("bitrate = 30000000", "bitrate = 30000000 is not allowed"),
    ("button_pin = 28", "button_pin = 28 is not allowed: it must be from 0 to 27"),
    ("button_pin = -1", "button_pin = -1 is not allowed: it must be from 0 to 27"),
    ("led_pin = 40", "led_pin = 40 is not allowed: it must be from 0 to 27"),
    ("mark_pin = 28", "mark_pin = 28 is not allowed: it must be from 0 to 27"),
    ("http_port = 0", "http_port = 0 is not allowed: it must be from 1 to 65,535"),
    ("http_port = 65536", "http_port = 65536 is not allowed: it must be from 1 to 65,535"),
    ("https_port = 0", "https_port = 0 is not allowed: it must be from 1 to 65,535"),
    ('http_host = "kit.local"', "http_host = 'kit.local' is not allowed: it must be an IP"),
    ('camera = "picamera"', "camera = 'picamera' is not allowed: it must be picamera2 or synth"),
    ("retention_days = -1", "retention_days = -1 is not allowed: it must be from 0 to 365 days"),
    ("retention_days = 400", "retention_days = 400 is not allowed"),
    ("clock_jump_days = 0", "clock_jump_days = 0 is not allowed: it must be from 1 to 3,650 days"),
    ("storage_reserve_mb = 0", "storage_reserve_mb = 0 is not allowed: it must be at least 10 MB"),
    ("storage_reserve_mb = 5", "storage_reserve_mb = 5 is not allowed"),
    ("watchdog_seconds = 0.1", "watchdog_seconds = 0.1 is not allowed: it must be from 0.5 to 60"),
    ("sync_stall_seconds = 1", "sync_stall_seconds = 1 is not allowed: it must be from 5 to"),
    ('kit_name = ""', "kit_name = '' is not allowed: it must be a name 1 to 64 bytes long"),
    (f'wifi_name = "{"w" * 33}"', "is not allowed: it must be empty, or a name 1 to 32 bytes"),
    ('wifi_password = "short"', "wifi_password = 'short' is not allowed: it must be empty, or 8"),
    # types
    ('fast = "maybe"', "fast should be true or false, not 'maybe'"),
    ("width = 1920.0", "width should be a whole number, not 1920.0"),
    ("kit_name = 5", "kit_name should be text in quotes, not 5"),
    ("hold_seconds = true", "hold_seconds should be a number, not True"),
    # settings that must agree
    ("button_pin = 5\nled_pin = 5", "button_pin and led_pin are both GPIO 5, but each needs its"),
    ("mark_pin = 17", "button_pin and mark_pin are both GPIO 17"),
    ("mark_pin = 27", "led_pin and mark_pin are both GPIO 27"),
    ("https_port = 80", "https_port and http_port are both 80, but HTTPS and plain HTTP"),
    ("fps = 60", "1920x1080 at 60 fps is more than the Pi's H.264 encoder can keep up with"),
    ("fps = 1\nwatchdog_seconds = 2", "watchdog_seconds = 2 is shorter than 3 frames at fps = 1"),
]


@pytest.mark.parametrize(("lines", "said"), PROBLEMS)
def test_each_rule_names_the_setting_its_value_and_what_is_allowed(
    tmp_path: Path, lines: str, said: str
) -> None:
    text = _problem(tmp_path, lines + "\n")
    assert "\n" not in text, text  # one problem, one line
    assert text.startswith(f"{tmp_path / 'kit.toml'}: "), text
    assert said in text


def test_the_table_tries_every_setting_that_has_a_rule() -> None:
    tried = {line.split(" =")[0] for lines, _ in PROBLEMS for line in lines.splitlines()}
    untried = [s.name for s in config.SETTINGS if s.rules and s.name not in tried]
    assert untried == [], f"add a case to PROBLEMS for: {untried}"


def test_an_out_of_range_value_says_what_to_do(tmp_path: Path) -> None:
    text = _problem(tmp_path, "hold_seconds = 0\n")
    assert text.endswith("change it, or remove it to use the default (3.0)")


@pytest.mark.parametrize(
    "lines",
    [
        "mark_pin = 0\nbutton_pin = 2\nled_pin = 3",  # GPIO 0 is fine as "no mark button"
        "mark_pin = 22",
        "hold_seconds = 1\nlock_minutes = 0.5\nretention_days = 0",
        "width = 1280\nheight = 720\nfps = 60",  # 720p60: within the encoder's rate
        'camera = "synthetic"\nfps = 60',  # the rate limit is the Pi encoder's
        'http_host = "::"\nhttp_port = 65535',
        'wifi_name = "VIG Kit north"\nwifi_password = "eight888"',
        "storage_reserve_mb = 10\nwatchdog_seconds = 0.5",
        "storage_reserve_mb = 100000000",  # more than the card: the recorder says so
    ],
)
def test_values_at_the_edges_are_allowed(tmp_path: Path, lines: str) -> None:
    config.load(_file(tmp_path, lines + "\n"))


def test_a_config_built_in_code_is_checked_too() -> None:
    with pytest.raises(ConfigError, match="hold_seconds = 0 is not allowed"):
        config.Config(hold_seconds=0)
    cfg = config.Config(camera="synthetic", fps=25)
    with pytest.raises(ConfigError, match="fps = 0 is not allowed"):
        cfg.replace(fps=0)
    with pytest.raises(ConfigError, match="fps = 0 is not allowed"):
        dataclasses.replace(cfg, fps=0)
    assert cfg.replace(fps=15).fps == 15


def test_the_shortest_hold_outlasts_the_buttons_debounce() -> None:
    debounce_s = inspect.signature(GpioControls).parameters["debounce_ms"].default / 1000
    for hold in (0.0, debounce_s, 0.99):
        with pytest.raises(ConfigError):
            config.Config(hold_seconds=hold)
    shortest = config.Config(hold_seconds=1).hold_seconds
    assert shortest > debounce_s
    ButtonLogic(debounce_s=debounce_s, hold_s=shortest)  # what crashed the kit before


@pytest.mark.parametrize("name", NOT_SETTINGS)
def test_other_vigkit_variables_are_not_settings(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        cfg = config.load(env={name: "/opt/vigkit/venv/bin/vigkit", "VIGKIT_FPS": "20"})
    assert cfg.fps == 20
    assert caplog.records == []


def test_a_misspelt_setting_in_the_environment_is_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        cfg = config.load(env={"VIGKIT_WIDHT": "1280", "VIGKIT_BUTON_PIN": "3"})
    assert (cfg.width, cfg.button_pin) == (1920, 17)
    said = [r.getMessage() for r in caplog.records]
    assert said == [
        "VIGKIT_WIDHT is not a setting and is ignored (did you mean VIGKIT_WIDTH?)",
        "VIGKIT_BUTON_PIN is not a setting and is ignored (did you mean VIGKIT_BUTTON_PIN?)",
    ]


def test_a_bad_value_in_the_environment_is_an_error() -> None:
    with pytest.raises(ConfigError) as e:
        config.load(env={"VIGKIT_HOLD_SECONDS": "0", "VIGKIT_HTTP_PORT": "eighty"})
    assert "environment: hold_seconds = '0' is not allowed" in str(e.value)
    assert "environment: http_port should be a whole number, not 'eighty'" in str(e.value)


def test_the_run_commands_load_ignores_vigkit_bin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGKIT_BIN", "/opt/vigkit/venv/bin/vigkit")
    monkeypatch.setenv("VIGKIT_NO_APT", "1")
    monkeypatch.setenv("VIGKIT_HTTP_PORT", "8080")
    cfg = run.load_settings(Namespace(config=_file(tmp_path, 'kit_name = "north"\n')))
    assert (cfg.kit_name, cfg.http_port) == ("north", 8080)


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("hold_seconds = 0", "hold_seconds = 0 is not allowed: it must be from 1 to 30 seconds"),
        ("lock_minutes = -1", "lock_minutes = -1 is not allowed: it must be more than 0"),
    ],
)
def test_vigkit_run_with_a_bad_setting_says_so_in_one_line(
    tmp_path: Path, line: str, said: str
) -> None:
    f = _file(tmp_path, line + "\n")
    env = {**os.environ, "VIGKIT_BIN": "/opt/vigkit/venv/bin/vigkit"}
    done = subprocess.run(
        [sys.executable, "-m", "device.cli", "run", "--config", str(f)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 78, done.stderr  # EX_CONFIG: vigkit.service won't restart on it
    first, *rest = done.stderr.splitlines()
    assert first.startswith(f"vigkit: {f}: {said}"), done.stderr
    assert "; change it, or remove it to use the default (" in first, done.stderr
    assert rest == ["vigkit: Fix the settings named above and start again."], done.stderr


def test_record_refuses_a_zero_reserve(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["record", "--data", str(tmp_path / "kit"), "--seconds", "1", "--reserve-mb", "0"]
    assert cli.main(args) == 78
    err = capsys.readouterr().err
    assert "command line: storage_reserve_mb = 0 is not allowed: it must be at least 10 MB" in err
    assert not (tmp_path / "kit").exists()  # refused before anything was made


def test_a_misspelt_setting_is_a_mypy_error(tmp_path: Path) -> None:
    snippet = tmp_path / "uses_config.py"
    snippet.write_text(
        "from device.config import Config, load\n"
        "cfg = load()\n"
        "width: int = cfg.width\n"
        "print(cfg.widht)\n"
        "Config(widht=3)\n"
        "name: int = cfg.kit_name\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), str(snippet)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stdout
    assert '"Config" has no attribute "widht"; maybe "width"?' in done.stdout
    assert 'Unexpected keyword argument "widht" for "Config"' in done.stdout
    assert "uses_config.py:6: error: Incompatible types in assignment" in done.stdout
    assert "Found 3 errors in 1 file" in done.stdout


def test_every_setting_is_documented_with_what_it_allows() -> None:
    rows = {
        line.split("`")[1]: line for line in DOCS.read_text().splitlines() if line.startswith("| `")
    }
    missing = [s.name for s in config.SETTINGS if s.name not in rows]
    assert missing == [], f"add these settings to {DOCS}: {missing}"
    stale = [s.name for s in config.SETTINGS if f"| {s.allowed} |" not in rows[s.name]]
    assert stale == [], f"update the 'allowed' column of {DOCS} for: {stale}"
