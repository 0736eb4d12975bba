"""Guards the suite-wide plaintext check in conftest.py: real media is found by it."""

from __future__ import annotations

import io
from pathlib import Path

from device.hardware.synthetic import SyntheticCamera, encode_pattern
from device.media import Mp4Muxer
from tests.conftest import plaintext_leaks


def test_the_leak_check_finds_a_real_film_and_a_real_still(tmp_path: Path) -> None:
    out = io.BytesIO()
    muxer = Mp4Muxer(out, width=320, height=180, fps=30, audio=False)
    for frame in encode_pattern(320, 180, 30, 300_000, 2):
        muxer.add_video(frame)
    muxer.close()
    camera = SyntheticCamera(320, 180, 30)
    camera.open()
    try:
        still = None
        while still is None:
            still = camera.preview_jpeg()
    finally:
        camera.close()
    leak_dir = tmp_path / "leak"
    leak_dir.mkdir()
    (leak_dir / "film").write_bytes(out.getvalue()[100:])  # even without the file's start
    (leak_dir / "still").write_bytes(b"junk" + still)
    found = sorted(line.split(": ", 1)[1] for line in plaintext_leaks(leak_dir))
    for f in leak_dir.iterdir():  # leave nothing behind for the session-wide check
        f.unlink()
    assert found == ["a JPEG image", "an MP4 fragment (moof)"]


def test_four_chance_bytes_in_ciphertext_are_not_a_jpeg(tmp_path: Path) -> None:
    """Found by chance at byte 54,725,487 of an hour-long test film's age ciphertext."""
    leak_dir = tmp_path / "ciphertext"
    leak_dir.mkdir()
    (leak_dir / "film.age").write_bytes(b"\x13" * 99 + b"\xff\xd8\xff\xfeS;+\xb7\xae\xfe\xb0\xe1")
    found = plaintext_leaks(leak_dir)
    (leak_dir / "film.age").unlink()
    assert found == []
