"""Settings are declared data; problems are reported all at once; every one is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from device import config
from device.errors import ConfigError

DOCS = Path(__file__).parent.parent / "docs" / "configuration.md"


def test_defaults_then_file_then_environment(tmp_path: Path) -> None:
    f = tmp_path / "kit.toml"
    f.write_text('fps = 25\nkit_name = "north"\n')
    cfg = config.load(f, env={"VIGKIT_FPS": "15", "HOME": "/root"})
    assert (cfg.fps, cfg.kit_name, cfg.width) == (15, "north", 1920)


def test_every_problem_is_reported_at_once_with_did_you_mean(tmp_path: Path) -> None:
    f = tmp_path / "kit.toml"
    f.write_text('fsp = 25\nwidth = "wide"\n')
    with pytest.raises(ConfigError) as e:
        config.load(f, env={"VIGKIT_BUTON_PIN": "3"})
    text = str(e.value)
    assert "unknown setting 'fsp' (did you mean fps?)" in text
    assert "width should be a whole number, not 'wide'" in text
    assert "unknown setting 'buton_pin' (did you mean button_pin?)" in text


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text()
    missing = [s.name for s in config.SETTINGS if f"`{s.name}`" not in text]
    assert missing == [], f"add these settings to {DOCS}: {missing}"
