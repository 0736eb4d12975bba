"""Fixtures for the real hardware adapters: gpiozero's own mock pins and a real-time fake
microphone (a private PulseAudio + the ALSA ``file`` plugin, see ``tests/fakemic.py``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from gpiozero.pins.mock import MockFactory

from tests import fakemic
from tests.needs import missing

RATE = fakemic.RATE


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
    pid: int  # its PulseAudio server: a test may stop or kill it to unplug the mic
    signal: npt.NDArray[np.int16]  # what the mic "hears", from its first sample


def noise_signal(seconds: float, seed: int = 7) -> npt.NDArray[np.int16]:
    """Seeded white noise: its autocorrelation is one sharp peak, so alignment is unambiguous."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, 4000.0, int(seconds * RATE))
    return np.clip(noise, -32_000, 32_000).astype(np.int16)


def require_fake_mic_packages() -> None:
    """Fail in CI, skip (saying which package) on a developer's machine."""
    lacking = fakemic.missing_packages()
    if lacking:
        missing(
            "the fake microphone needs Debian packages: "
            f"sudo apt-get install --no-install-recommends {' '.join(lacking)}"
        )


def reinit_portaudio() -> None:
    """PortAudio lists devices once, at initialisation: make it read ALSA's config again."""
    import sounddevice as sd

    sd._terminate()
    sd._initialize()


@contextlib.contextmanager
def running_fake_mic(raw: Path) -> Iterator[FakeMic]:
    """Start a fake mic playing ``raw``, point this process's ALSA at it, undo both after."""
    try:
        server = fakemic.start(raw)
    except fakemic.FakeMicError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        with fakemic.alsa_pointed_at(server):
            reinit_portaudio()
            signal = np.fromfile(raw, dtype="<i2").astype(np.int16)
            yield FakeMic(device=fakemic.DEVICE, pid=server.pid, signal=signal)
    finally:
        fakemic.stop(server)
        reinit_portaudio()  # PortAudio sees the previous ALSA config (the session's mic)


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
