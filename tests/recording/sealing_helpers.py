"""Interrupted films made in process (quick, and sure to hold whole fragments even on a
loaded machine), and the films a power cut in the first second leaves."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from device import age, config
from device.kit.assembly import open_kit
from device.library import Library, State


def interrupted_film(
    data: Path, recipients: list[age.Recipient], seconds: float = 2.5, bitrate: int = 300_000
) -> str:
    """A film recorded with the synthetic sources, then cut as a power cut leaves it: no
    final chunk, no fragment index, the index still saying *recording*."""
    cfg = config.load(
        overrides={
            "data_dir": data,
            "camera": "synthetic",
            "microphone": "synthetic",
            "width": 320,
            "height": 180,
            "bitrate": bitrate,
            "storage_reserve_mb": 10,
        }
    )
    kit = open_kit(cfg, recipients)
    try:
        rec_id = kit.recorder.start()
        time.sleep(seconds)
        kit.recorder.stop()
        assert kit.recorder.wait(60)
        film = kit.library.data.film(rec_id)
        body = film.read_bytes()
        film.write_bytes(body[: len(body) - 100])  # into the final chunk: unfinished
        kit.library.data.derived(rec_id, "index").unlink()
        kit.library.index.update(rec_id, state=State.RECORDING)
    finally:
        kit.close()
    return rec_id


def empty_film_bodies(recipients: list[age.Recipient]) -> dict[str, bytes | None]:
    """The films a power cut in the first second can leave (None: no file at all)."""
    whole = age.encrypt_bytes(b"", recipients)  # header, nonce, one empty final chunk
    return {"zero": b"", "hundred": whole[:100], "header-only": whole[:-16], "missing": None}


def add_empty_films(library: Library, recipients: list[age.Recipient]) -> dict[str, str]:
    """Interrupted recordings older than any other, each with one of the bodies."""
    ids = {}
    for n, (kind, body) in enumerate(empty_film_bodies(recipients).items()):
        rec_id = f"20200101T00000{n}Z-{n:012x}"
        library.index.add(rec_id, datetime(2020, 1, 1, tzinfo=UTC).isoformat(), 0, True)
        library.index.update(rec_id, state=State.INTERRUPTED)
        if body is not None:
            library.data.film(rec_id).write_bytes(body)
        ids[kind] = rec_id
    return ids
