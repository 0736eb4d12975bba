"""A finished, encrypted recording in a real library, made fast, and ways to look at
exported media: decrypted by the real ``age`` CLI into memory, then read by ffmpeg /
ffprobe through pipes. Nothing decrypted ever touches the disk."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from device import age
from device.hardware.synthetic import SyntheticCamera, SyntheticMicrophone, VirtualClock
from device.hardware.synthetic import read_frame_number as read_counter
from device.library import Library, State, new_recording_id
from device.media.packets import AudioBlock, EncodedFrame
from device.recording.capture import CaptureResult
from device.recording.film import EncryptedFilm, FilmFormat
from tests.media.media_helpers import _Merge

FPS = 30
WIDTH, HEIGHT = 320, 180


@dataclass(frozen=True)
class Key:
    """An office key made by the real ``age-keygen``: its file and parsed identity."""

    path: Path
    identity: age.Identity
    recipient: age.Recipient

    def decrypt(self, path: Path) -> bytes:
        return subprocess.run(
            ["age", "-d", "-i", str(self.path), str(path)], capture_output=True, check=True
        ).stdout


def make_key(folder: Path) -> Key:
    path = folder / "org.key"
    subprocess.run(["age-keygen", "-o", str(path)], check=True, capture_output=True)
    (identity,) = age.parse_identities(path.read_text())
    public = next(
        line.split(": ", 1)[1] for line in path.read_text().splitlines() if "public key" in line
    )
    (recipient,) = age.parse_recipients(public)
    return Key(path, identity, recipient)


def record_film(
    library: Library, key: Key, seconds: float, *, markers_s: tuple[float, ...] = ()
) -> str:
    """Record ``seconds`` of the synthetic camera and mic into an encrypted film, as the
    kit does (EncryptedFilm: muxer → index tap → age writer), as fast as possible."""
    rec_id = new_recording_id()
    library.index.add(rec_id, "2026-11-21T10:00:00+00:00", 0, True)
    film = EncryptedFilm(
        library.data, rec_id, [key.recipient], FilmFormat(WIDTH, HEIGHT, FPS), has_audio=True
    )
    clock = VirtualClock()
    camera = SyntheticCamera(WIDTH, HEIGHT, FPS, clock=clock, bitrate=400_000)
    mic = SyntheticMicrophone(clock=clock)
    frames: queue.Queue[EncodedFrame] = queue.Queue()
    blocks: queue.Queue[AudioBlock] = queue.Queue()
    camera.open()
    camera.start_encoding(frames.put_nowait)
    assert clock.anchor_us is not None
    start_us = clock.anchor_us
    end_us = start_us + round(seconds * 1e6)
    mic.start(blocks.put_nowait, start_us)
    # this consumer joins the virtual clock too, so neither source runs on freely once
    # the other stops (a free-running virtual source does not notice a stop request)
    consumer, never = clock.join(start_us), threading.Event()
    merge = _Merge(film.muxer, blocks, mic)
    while (frame := frames.get(timeout=10)).timestamp_us < end_us:
        merge.audio_until(frame.timestamp_us)
        film.muxer.add_video(frame)
        consumer.wait_until(frame.timestamp_us, never)
    camera.close()
    mic.stop()
    consumer.leave()
    merge.audio_until(end_us - 1, wait=False)
    markers = [start_us + round(m * 1e6) for m in markers_s]
    size, sha = film.finish(CaptureResult(first_us=start_us, last_us=end_us, markers_us=markers))
    library.index.update(rec_id, state=State.COMPLETE, duration_s=seconds, size=size, sha256=sha)
    return rec_id


def shown_frames(mp4: bytes, *extra_input_args: str) -> list[int]:
    """The frame counter of every frame ffmpeg shows, in order (edit lists honoured unless
    ``-ignore_editlist 1`` is passed)."""
    decode = ["-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", "gray", "-"]
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", *extra_input_args, "-i", "pipe:0", *decode],
        input=mp4,
        capture_output=True,
        check=True,
    ).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, HEIGHT, WIDTH)
    return [read_counter(f) for f in frames]


def probe(mp4: bytes) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams", "-i", "pipe:0"],
        input=mp4,
        capture_output=True,
        check=True,
    ).stdout
    parsed: dict[str, Any] = json.loads(out)
    return parsed
