"""The recorder's state as the page shows it, shared by the templates and ``/status``.

Only to a browser that has unlocked the kit: to anyone else on the Wi-Fi the live sound
level, the running time and even whether the kit is filming would tell what happens in
the room (issue #17), so a locked browser is told "Locked" and nothing more. The kit's
own light shows the practitioner that it films.
"""

from __future__ import annotations

import math
from typing import Any

from flask import url_for

from device import age
from device.errors import VigKitError
from device.hardware.monotonic import monotonic_us
from device.library import State
from device.recording import RecorderState
from device.recording.recorder import Status
from web.common.display import clock_text, space_text
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
    "saved": None,
    "space_left": None,
}


def recorder_status() -> dict[str, Any]:
    if current_identity() is None:
        return dict(LOCKED)
    page = current_kit()
    kit, sealer = page.kit, page.sealer
    status = kit.recorder.status
    elapsed = status.elapsed_s(monotonic_us())
    return {
        "state": str(status.state),
        "words": WORDS[status.state],
        "elapsed_s": None if elapsed is None else round(elapsed, 1),
        "minutes_left": int(kit.recorder.minutes_left()),
        "space_left": space_text(kit.recorder.minutes_left()),
        "warning": status.fault or status.warning,
        "level_dbfs": level_dbfs(kit.recorder.audio_level_dbfs()),
        "repairing": sealer.repairing,
        "repair_problem": next(iter(sealer.problems.values()), None),
        "saved": saved(status),
    }


def saved(status: Status) -> dict[str, str] | None:
    """The film just saved, as Home says it: "Saved · 1:14 · Case F-0231, cycle 2" and
    where to open it. Only for an unlocked browser (the case code is in the case's
    encrypted file; the unlock page polls too) and only once the recorder is idle."""
    if status.state != RecorderState.IDLE or status.recording_id is None:
        return None
    identity = current_identity()
    if identity is None:
        return None
    try:
        row = current_kit().kit.library.index.get(status.recording_id)
        if row.state == State.DELETED:
            return None  # erased since: nothing to announce
        code = _case_code(row.id, row.case_id, identity) if row.case_id else None
    except VigKitError:  # its case erased since, or its file damaged: nothing to announce
        return None
    where = f"Case {code}, cycle {row.cycle}" if code else "Unassigned"
    return {
        "words": f"Saved · {clock_text(row.duration_s)} · {where}",
        "url": url_for("pages.film", rec_id=row.id),
    }


def _case_code(rec_id: str, case_id: str, identity: age.X25519Identity) -> str:
    page = current_kit()
    return page.case_codes.get(rec_id, case_id, lambda: page.cases.load(case_id, [identity]).code)


def level_dbfs(level: float | None) -> float | None:
    """The meter's level for JSON: None with no microphone, else -90 (silence) to 0 dBFS.

    JSON has no -inf, and a meter needs no more than 90 dB of range."""
    if level is None:
        return None
    if math.isnan(level):
        return SILENCE_DBFS
    return round(min(0.0, max(SILENCE_DBFS, level)), 1)
