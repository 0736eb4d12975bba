"""Finding 2: the passphrase is the only lock on a stolen card, and it was easy to guess.

The review's thief copied keys/kit-identity.age and guessed offline; the strength check
had accepted five passphrases any cracking list tries early. Replayed: vigkit setup
refuses each of them in a sentence that says why, takes five generated words, and wraps
the key with the board's scrypt work (17 off a Pi or on a Pi 4/5, 16 on a Zero 2 W).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from device import age
from device.age.strength import MIN_GUESSES, estimated_guesses
from device.errors import WeakPassphrase
from device.hardware import board
from device.kit import diceware
from tests.recording.conftest import OfficeKey, vigkit

REVIEW_PASSPHRASES = [
    "Summer2024!!",
    "Liverpool123",
    "manchester12",
    "qwertyuiop12",
    "123456789abc",
]


def _setup(tmp_path: Path, office: str, passphrase: str) -> tuple[int, str, Path]:
    tmp_path.mkdir()
    (tmp_path / "pass.txt").write_text(passphrase + "\n")
    data = tmp_path / "data"
    done = vigkit(
        "setup", "--office-recipient", office, "--passphrase-file", tmp_path / "pass.txt",
        "--kit-name", "Harbour", "--config", tmp_path / "vigkit.toml", "--data", data,
        "--label", tmp_path / "label.svg", check=False,
    )  # fmt: skip
    return done.returncode, done.stderr, data


@pytest.mark.parametrize("weak", REVIEW_PASSPHRASES)
def test_the_reviews_passphrases_are_refused_with_why(weak: str) -> None:
    with pytest.raises(WeakPassphrase) as refused:
        age.check_passphrase(weak)
    print(f"{weak!r}: {estimated_guesses(weak):.3g} guesses; {refused.value.message}")
    assert "could be guessed in about" in refused.value.message
    assert "by a stolen card's thief" in refused.value.message


def test_setup_refuses_a_weak_one_and_takes_five_words(
    tmp_path: Path, office_key: OfficeKey
) -> None:
    status, stderr, data = _setup(tmp_path / "weak", office_key.public, "Summer2024!!")
    assert status == 1 and "could be guessed in about" in stderr and "Traceback" not in stderr
    assert not (data / "keys" / "kit-identity.age").exists()

    words = diceware.generate()
    assert estimated_guesses(words) >= MIN_GUESSES
    status, stderr, data = _setup(tmp_path / "good", office_key.public, words)
    assert status == 0, stderr
    wrapped = (data / "keys" / "kit-identity.age").read_bytes()
    stanza = wrapped.split(b"\n")[1].split()
    assert stanza[:2] == [b"->", b"scrypt"] and int(stanza[3]) == board.WORK_FACTOR  # not a Pi
    assert age.unwrap_identity(wrapped, words)


def test_work_factor_per_board(tmp_path: Path) -> None:
    model = tmp_path / "model"
    boards = {
        b"Raspberry Pi 4 Model B Rev 1.5\0": (17, 18),
        b"Raspberry Pi 5 Model B Rev 1.0\0": (17, 18),
        b"Raspberry Pi Zero 2 W Rev 1.0\0": (16, 17),
        b"Raspberry Pi 3 Model B Plus Rev 1.3\0": (16, 17),
    }
    for text, (work, cap) in boards.items():
        model.write_bytes(text)
        name = board.board_model(model)
        assert (board.work_factor(name), board.reading_cap(name)) == (work, cap), name
    absent = board.board_model(tmp_path / "no-device-tree")
    assert absent == "" and board.work_factor(absent) == board.WORK_FACTOR
    # an identity wrapped at 16 before this change still opens under every cap
    old = age.wrap_identity(age.X25519Identity.generate(), "plum tractor vivid seven", 16)
    assert age.unwrap_identity(old, "plum tractor vivid seven", max_work_factor=17)


def test_scrypt_time_per_guess_here() -> None:
    """The thief's cost of one guess on this machine's core, at each work factor."""
    salt = os.urandom(16)
    times = {}
    for log_n in (16, 17, 18):
        kdf = Scrypt(salt=salt, length=32, n=1 << log_n, r=8, p=1)
        start = time.perf_counter()
        kdf.derive(b"Summer2024!!")
        times[log_n] = time.perf_counter() - start
        mib = 128 * 8 << log_n >> 20
        print(f"scrypt logN {log_n} ({mib} MiB): {times[log_n] * 1000:.0f} ms a guess")
    assert times[16] < times[17] < times[18]  # the work doubles with each step
