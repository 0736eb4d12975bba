"""A recording made by `vigkit record` opens with the real `age`, plays in ffprobe, and its
picture and sound line up."""

from __future__ import annotations

import hashlib
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.mediacheck import click_onsets, ffmpeg_decodes, ffprobe, flash_times, stream_duration
from tests.recording.conftest import VIGKIT, OfficeKey, films, vigkit

SYNC_TOLERANCE_S = 0.040


def _index_row(data: Path) -> sqlite3.Row:
    db = sqlite3.connect(data / "kit.sqlite")
    db.row_factory = sqlite3.Row
    row = db.execute("SELECT * FROM recordings").fetchone()
    db.close()
    return row


def _assert_in_sync(mp4: bytes, expect_flashes: list[float]) -> None:
    flashes, clicks = flash_times(mp4), click_onsets(mp4)
    assert [round(f) for f in flashes] == [round(f) for f in expect_flashes]
    assert len(clicks) == len(flashes), (flashes, clicks)
    for f, c in zip(flashes, clicks, strict=True):
        assert abs(f - c) <= SYNC_TOLERANCE_S, f"flash at {f:.3f} s, click at {c:.3f} s"


def test_fast_recording_decrypts_plays_and_lines_up(tmp_path: Path, office_key: OfficeKey) -> None:
    data = tmp_path / "kit"
    vigkit("record", "--data", data, "--seconds", "5", "--fast", "-r", office_key.public)
    (film,) = films(data)
    mp4 = office_key.decrypt(film)
    probe = ffprobe(mp4)
    assert sorted(s["codec_name"] for s in probe["streams"]) == ["aac", "h264"]
    assert abs(stream_duration(mp4) - 5.0) <= 0.3
    assert ffmpeg_decodes(mp4) == (0, "")
    _assert_in_sync(mp4, [1.0])
    row = _index_row(data)
    assert row["state"] == "complete"
    assert row["sha256"] == hashlib.sha256(film.read_bytes()).hexdigest()
    assert row["size"] == film.stat().st_size
    assert abs(row["duration_s"] - 5.0) <= 0.3
    # the notes sidecar exists from the start, encrypted, and opens with the office key
    notes = office_key.decrypt(film.with_name(film.name.replace(".mp4.age", ".notes.age")))
    assert b'"marks":[]' in notes


@pytest.mark.slow
def test_picture_and_sound_still_line_up_after_15_minutes(
    tmp_path: Path, office_key: OfficeKey
) -> None:
    data = tmp_path / "kit"
    vigkit(
        "record",
        "--data",
        data,
        "--seconds",
        "905",
        "--fast",
        "--size",
        "320x180",
        "--bitrate",
        "200000",
        "-r",
        office_key.public,
    )
    (film,) = films(data)
    mp4 = office_key.decrypt(film)
    assert abs(stream_duration(mp4) - 905) <= 0.3
    _assert_in_sync(mp4, [1.0 + 10 * k for k in range(91)])


def test_real_time_recording_with_no_microphone(tmp_path: Path, office_key: OfficeKey) -> None:
    data = tmp_path / "kit"
    done = vigkit(
        "record", "--data", data, "--seconds", "3", "--mic", "none", "-r", office_key.public
    )
    assert "no microphone: recording picture only" in done.stderr
    (film,) = films(data)
    mp4 = office_key.decrypt(film)
    probe = ffprobe(mp4)
    assert [s["codec_name"] for s in probe["streams"]] == ["h264"]
    assert abs(stream_duration(mp4) - 3.0) <= 0.3


def test_sigterm_stops_cleanly_with_a_whole_film(tmp_path: Path, office_key: OfficeKey) -> None:
    data = tmp_path / "kit"
    proc = subprocess.Popen(
        [*VIGKIT, "record", "--data", str(data), "--seconds", "600", "-r", office_key.public],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    assert "recording" in proc.stderr.readline()
    time.sleep(3)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    proc.stderr.close()
    (film,) = films(data)
    mp4 = office_key.decrypt(film)  # check=True: the whole file authenticated
    assert 2.0 <= stream_duration(mp4) <= 4.5
    assert _index_row(data)["stop_reason"] == "stopped by a signal"


def test_missing_recipients_is_a_clear_error(tmp_path: Path) -> None:
    done = vigkit("record", "--data", tmp_path / "kit", "--seconds", "1", check=False)
    assert done.returncode == 1
    assert "there is no key to encrypt to" in done.stderr
    assert "Traceback" not in done.stderr
