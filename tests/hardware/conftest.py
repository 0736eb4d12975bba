"""Fixtures for the real hardware adapters: gpiozero's own mock pins and a real-time fake
microphone (PulseAudio + the ALSA ``file`` plugin, see ``../shared/fake-mic.sh``)."""

from __future__ import annotations

import contextlib
import ctypes.util
import glob
import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from gpiozero.pins.mock import MockFactory

FAKE_MIC_SCRIPT = Path(
    os.environ.get(
        "VIGKIT_FAKE_MIC", Path(__file__).resolve().parents[3] / "shared" / "fake-mic.sh"
    )
)
RATE = 48_000


@pytest.fixture
def mock_factory() -> Iterator[MockFactory]:
    """A fresh set of mock pins per test, passed to adapters explicitly (no global factory)."""
    factory = MockFactory()
    try:
        yield factory
    finally:
        factory.close()


# --- the fake microphone ---------------------------------------------------------------


@dataclass(frozen=True)
class FakeMic:
    device: str  # the name PortAudio lists
    run_dir: str  # FAKE_MIC_DIR: holds pulse.pid
    signal: npt.NDArray[np.int16]  # what the mic "hears", from its first sample


def noise_signal(seconds: float, seed: int = 7) -> npt.NDArray[np.int16]:
    """Seeded white noise: its autocorrelation is one sharp peak, so alignment is unambiguous."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, 4000.0, int(seconds * RATE))
    return np.clip(noise, -32_000, 32_000).astype(np.int16)


def _missing_packages() -> list[str]:
    missing = []
    if ctypes.util.find_library("portaudio") is None:
        missing.append("libportaudio2")
    if shutil.which("pulseaudio") is None:
        missing.append("pulseaudio")
    if shutil.which("pactl") is None:
        missing.append("pulseaudio-utils")
    if not glob.glob("/usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so"):
        missing.append("libasound2-plugins")
    return missing


def require_fake_mic_packages() -> None:
    """Fail in CI, skip (saying which package) on a developer's machine."""
    missing = _missing_packages()
    if not FAKE_MIC_SCRIPT.is_file():
        pytest.fail(f"the fake microphone script is missing: {FAKE_MIC_SCRIPT}")
    if missing:
        message = (
            "the fake microphone needs Debian packages: "
            f"sudo apt-get install --no-install-recommends {' '.join(missing)}"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def reinit_portaudio() -> None:
    """PortAudio lists devices once, at initialisation: make it read ALSA's config again."""
    import sounddevice as sd

    sd._terminate()
    sd._initialize()


@contextlib.contextmanager
def running_fake_mic(raw: Path) -> Iterator[FakeMic]:
    """Start a fake mic playing ``raw``, point this process's ALSA at it, undo both after."""
    started = subprocess.run(
        [str(FAKE_MIC_SCRIPT), "start", str(raw)], capture_output=True, text=True, timeout=30
    )
    if started.returncode != 0:
        pytest.fail(f"the fake microphone did not start: {started.stderr.strip()}")
    env = _parse_exports(started.stdout)
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        reinit_portaudio()
        signal = np.fromfile(raw, dtype="<i2").astype(np.int16)
        yield FakeMic(device=env["FAKE_MIC_DEVICE"], run_dir=env["FAKE_MIC_DIR"], signal=signal)
    finally:
        subprocess.run([str(FAKE_MIC_SCRIPT), "stop"], env={**os.environ}, timeout=30, check=False)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reinit_portaudio()


def _parse_exports(stdout: str) -> dict[str, str]:
    line = next(ln for ln in stdout.splitlines() if ln.startswith("export "))
    return dict(word.split("=", 1) for word in shlex.split(line)[1:])


@pytest.fixture(scope="package")
def fake_mic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeMic]:
    """One fake microphone for the session, playing 20 s of known noise from its start."""
    require_fake_mic_packages()
    raw = tmp_path_factory.mktemp("fakemic") / "noise.raw"
    noise_signal(20.0).astype("<i2").tofile(raw)
    with running_fake_mic(raw) as mic:
        yield mic


@pytest.fixture
def unpluggable_mic(tmp_path: Path, fake_mic: FakeMic) -> Iterator[FakeMic]:
    """A second, private fake mic a test may kill; the session's mic is restored after."""
    raw = tmp_path / "noise.raw"
    noise_signal(20.0, seed=11).astype("<i2").tofile(raw)
    with running_fake_mic(raw) as mic:  # on exit the session mic's environment comes back
        yield mic
