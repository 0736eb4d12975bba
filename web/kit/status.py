"""The recorder's state as the page shows it, shared by the templates and ``/status``.

Only to a browser that has unlocked the kit: to anyone else on the Wi-Fi the live sound
level, the running time and even whether the kit is filming would tell what happens in
the room (issue #17), so a locked browser is told "Locked" and nothing more. The kit's
own light shows the practitioner that it films.
"""

from __future__ import annotations

import math
from typing import Any

from device.hardware.monotonic import monotonic_us
from device.recording import RecorderState
from web.kit.services import current_identity, current_kit

SILENCE_DBFS = -90.0
WORDS = {
    RecorderState.IDLE: "Ready to record",
    RecorderState.RECORDING: "Recording",
    RecorderState.FINALIZING: "Saving",
    RecorderState.FAULT: "Recording stopped",
}

LOCKED: dict[str, Any] = {
    "state": "locked",
    "words": "Locked",
    "elapsed_s": None,
    "minutes_left": None,
    "warning": None,
    "level_dbfs": None,
    "repairing": None,
    "repair_problem": None,
}


def recorder_status() -> dict[str, Any]:
    if current_identity() is None:
        return dict(LOCKED)
    page = current_kit()
    kit, sealer = page.kit, page.sealer
    status = kit.recorder.status
    elapsed = None
    if status.state == RecorderState.RECORDING and status.started_us is not None:
        elapsed = round(max(0, monotonic_us() - status.started_us) / 1e6, 1)
    return {
        "state": str(status.state),
        "words": WORDS[status.state],
        "elapsed_s": elapsed,
        "minutes_left": int(kit.recorder.minutes_left()),
        "warning": status.fault or status.warning,
        "level_dbfs": level_dbfs(kit.recorder.audio_level_dbfs()),
        "repairing": sealer.repairing,
        "repair_problem": next(iter(sealer.problems.values()), None),
    }


def level_dbfs(level: float | None) -> float | None:
    """The meter's level for JSON: None with no microphone, else -90 (silence) to 0 dBFS.

    JSON has no -inf, and a meter needs no more than 90 dB of range."""
    if level is None:
        return None
    if math.isnan(level):
        return SILENCE_DBFS
    return round(min(0.0, max(SILENCE_DBFS, level)), 1)
