"""Which board the kit runs on, and the passphrase work (scrypt logN) that suits it.

The kit's passphrase is the only lock on a stolen card, so unlocking should cost about
a second of the board's own time: scrypt logN 17 (128 MiB) on a Raspberry Pi 4 or 5.
A Pi Zero 2 W has 512 MB shared with the camera's buffers and the recorder, so it keeps
logN 16 (64 MiB). Anything else (a bench computer, the demo) is at least as fast as a
Pi 4 and takes 17. tests/security prints the time per guess at 16, 17 and 18 here.
"""

from __future__ import annotations

from pathlib import Path

MODEL_FILE = Path("/proc/device-tree/model")
SMALL_BOARD_WORK_FACTOR = 16  # 64 MiB: fits beside the recorder on a Zero 2 W
WORK_FACTOR = 17  # 128 MiB: about a second on a Pi 4, a little less on a Pi 5
# Boards with the memory to spare for logN 17 (4 and 5, their compute modules and the 400/500).
_ROOMY = (
    "Raspberry Pi 4",
    "Raspberry Pi 5",
    "Raspberry Pi 400",
    "Raspberry Pi 500",
    "Compute Module 4",
    "Compute Module 5",
)


def board_model(model_file: Path = MODEL_FILE) -> str:
    """The device tree's model ("Raspberry Pi 4 Model B Rev 1.5"), or "" off a Pi."""
    try:
        return model_file.read_bytes().rstrip(b"\0").decode("utf-8", errors="replace").strip()
    except OSError:
        return ""


def work_factor(model: str) -> int:
    """The scrypt logN a new kit identity is wrapped with on this board."""
    if not model.startswith("Raspberry Pi"):
        return WORK_FACTOR  # not a Pi: a computer at least as fast as a Pi 4
    if any(name in model for name in _ROOMY):
        return WORK_FACTOR
    return SMALL_BOARD_WORK_FACTOR  # a Zero 2 W, a Pi 3, or a board not known yet: spare memory


def reading_cap(model: str) -> int:
    """The highest logN this board will run to open an identity file: one above its own,
    and never below 17, so a card wrapped on a Pi 4 still opens on a Zero 2 W."""
    return max(WORK_FACTOR, work_factor(model) + 1)
