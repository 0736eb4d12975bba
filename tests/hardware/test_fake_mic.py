"""The project's fake microphone itself: private, cleaned up, and plain about what is missing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests import fakemic
from tests.hardware.conftest import noise_signal, require_fake_mic_packages


def test_each_fake_mic_has_its_own_folder_and_leaves_nothing(tmp_path: Path) -> None:
    require_fake_mic_packages()
    raw = tmp_path / "noise.raw"
    noise_signal(1.0).astype("<i2").tofile(raw)
    first, second = fakemic.start(raw), fakemic.start(raw)
    try:
        assert first.run_dir != second.run_dir
        assert oct(first.run_dir.stat().st_mode & 0o777) == "0o700"
        assert str(raw) in (first.run_dir / "asoundrc").read_text()
        os.kill(first.pid, 0)  # running
    finally:
        fakemic.stop(first)
        fakemic.stop(second)
    for server in (first, second):
        assert not server.run_dir.exists()
        assert server.process.returncode is not None


def test_a_missing_sound_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(fakemic.FakeMicError, match=r"sound file is missing: .*nothing\.raw"):
        fakemic.start(tmp_path / "nothing.raw")


def test_missing_packages_are_named_for_apt(monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = shutil.which
    monkeypatch.setattr(
        fakemic.shutil, "which", lambda name: None if name == "pactl" else real_which(name)
    )
    assert "pulseaudio-utils" in fakemic.missing_packages()
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install .*pulseaudio-utils"):
        require_fake_mic_packages()


def test_the_previous_alsa_config_comes_back(tmp_path: Path) -> None:
    require_fake_mic_packages()
    raw = tmp_path / "noise.raw"
    noise_signal(1.0).astype("<i2").tofile(raw)
    before = os.environ.get("ALSA_CONFIG_PATH")
    server = fakemic.start(raw)
    try:
        with fakemic.alsa_pointed_at(server):
            assert os.environ["ALSA_CONFIG_PATH"].endswith(f"{server.run_dir}/asoundrc")
        assert os.environ.get("ALSA_CONFIG_PATH") == before
    finally:
        fakemic.stop(server)
