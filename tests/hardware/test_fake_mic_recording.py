"""A real sounddevice capture, through the whole kit: the samples the fake microphone
plays appear in the decrypted film's AAC track."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from tests.hardware.conftest import FakeMic, noise_signal, running_fake_mic


@pytest.fixture
def speaking_mic(tmp_path: Path, fake_mic: FakeMic) -> Iterator[FakeMic]:
    raw = tmp_path / "speech.raw"
    _speech_band(noise_signal(20.0, seed=5)).astype("<i2").tofile(raw)
    with running_fake_mic(raw) as mic:
        yield mic


def _speech_band(noise: np.ndarray) -> np.ndarray:
    """Noise kept below 4 kHz, like a voice: what AAC at 96 kbit/s keeps faithfully (white
    noise up to 24 kHz is mostly thrown away by any perceptual codec)."""
    spectrum = np.fft.rfft(noise.astype(np.float64))
    spectrum[int(len(spectrum) * 4_000 / 24_000) :] = 0
    return (np.fft.irfft(spectrum, len(noise)) * 2).astype(np.int16)


def _decoded_audio(mp4: bytes) -> np.ndarray:
    with av.open(io.BytesIO(mp4)) as c:
        return np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])


def _best_correlation(recorded: np.ndarray, source: np.ndarray, start: int) -> float:
    """Normalised cross-correlation of a 0.5 s window of the film against the source."""
    window = recorded[start : start + 24_000].astype(np.float64)
    src = source.astype(np.float64) / 32768
    n = len(src) + len(window)
    spectrum = np.fft.rfft(src, n) * np.conj(np.fft.rfft(window, n))
    corr = np.fft.irfft(spectrum, n)[: len(src) - len(window)]
    lag = int(np.argmax(corr))
    match = src[lag : lag + len(window)]
    return float(np.dot(window, match) / (np.linalg.norm(window) * np.linalg.norm(match)))


def test_the_microphone_is_heard_in_the_encrypted_film(
    tmp_path: Path, speaking_mic: FakeMic
) -> None:
    key = tmp_path / "org.key"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    public = key.read_text().split("public key: ")[1].split()[0]
    data = tmp_path / "kit"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "device.cli",
            "record",
            "--data",
            str(data),
            "--seconds",
            "4",
            "--mic",
            speaking_mic.device,
            "--size",
            "320x180",
            "-r",
            public,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (film,) = (data / "recordings").glob("*.mp4.age")
    mp4 = subprocess.run(
        ["age", "-d", "-i", str(key), str(film)], capture_output=True, check=True
    ).stdout
    recorded = _decoded_audio(mp4)
    assert len(recorded) >= 3 * 48_000
    # each half second of the film is searched for in what the microphone played; a
    # loaded machine may drop a block here and there, so the best window must match
    windows = [
        _best_correlation(recorded, speaking_mic.signal, s) for s in range(24_000, 144_000, 24_000)
    ]
    assert max(windows) > 0.9, windows
