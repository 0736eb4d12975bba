"""A byte flipped on the card: in the middle of one age chunk of a film, as a worn SD
card or a bad sector leaves it; and what ffmpeg makes of a film piped to it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

ENC_CHUNK = 64 * 1024 + 16  # one sealed age chunk: plaintext and its tag


def payload_start(ciphertext: bytes) -> int:
    """Where chunk 0 starts: after the header's MAC line and the 16-byte nonce."""
    mac_line = ciphertext.index(b"\n--- ") + 1
    return ciphertext.index(b"\n", mac_line) + 1 + 16


def chunks_of(path: Path) -> int:
    data = path.read_bytes()
    return -(-(len(data) - payload_start(data)) // ENC_CHUNK)


def flip_byte(path: Path, chunk: int, at: int = 1000) -> None:
    """Flip one bit of byte ``at`` of chunk ``chunk``, in place (size and mtime as a
    card's own damage leaves them: the kit never wrote this)."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[payload_start(bytes(data)) + chunk * ENC_CHUNK + at] ^= 0x10
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def decodes_cleanly(mp4: bytes) -> str:
    """ffmpeg's complaints while decoding every frame and sound block ('' when none)."""
    done = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "pipe:0", "-f", "null", "-"],
        input=mp4,
        capture_output=True,
        timeout=120,
        check=False,
    )
    return done.stderr.decode(errors="replace") + ("" if done.returncode == 0 else "(exit 1)")


def video_seconds(mp4: bytes) -> float:
    """From the first to the end of the last video packet, as ffprobe reads them."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "packet=pts_time,duration_time", "-of", "json", "-i", "pipe:0"],
        input=mp4, capture_output=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    packets = json.loads(out)["packets"]
    times = sorted(float(p["pts_time"]) for p in packets)
    return times[-1] + float(packets[-1].get("duration_time", 0)) - times[0]
