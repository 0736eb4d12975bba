"""The recording bench's measured process: the kit's own recording path, and its input.

``python -m bench.recording_worker KIND DATA RECIPIENT N`` reads the pre-encoded access
units from stdin, builds the kit's recording path (Library in a temporary data dir,
Recorder, EncryptedFilm with its SealingTap and age writer) with a ``ReplayCamera`` and a
``ReplayMicrophone`` (input made beforehand, replayed) and prints one JSON line of
figures. Kinds: ``fast-worker`` (as fast as possible, on one ``VirtualClock``),
``nosync-worker`` (the same without
``fdatasync``: what durability costs, since the anchor never syncs), ``realtime-worker``
(at the camera's own pace) and ``press-worker`` (press-to-first-frame with a warm camera).
The worker counts its own CPU (all threads) from just before ``start()`` to the moment
the film is finalized.
"""

from __future__ import annotations

import json
import os
import resource
import struct
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from device import age
from device.hardware.synthetic import (
    RealTimeClock,
    ReplayCamera,
    SyntheticMicrophone,
    VirtualClock,
    encode_pattern,
)
from device.hardware.synthetic.pacing import Pace
from device.library import Library
from device.media.packets import AudioBlock, EncodedFrame
from device.recording.capture import CaptureLimits, CaptureResult
from device.recording.film import EncryptedFilm, FilmFormat
from device.recording.recorder import Recorder, RecorderState

WIDTH, HEIGHT, FPS, BITRATE = 1920, 1080, 30, 8_000_000
RATE, MIC_BLOCK, AAC_FRAME = 48_000, 960, 1024  # the mic's block: 20 ms, as on the kit
FILLER = b"\x00\x00\x01\x0c"  # H.264 filler data NAL unit (type 12): decoders skip it


# --- the input: made once, in memory -------------------------------------------------


def make_units() -> list[EncodedFrame]:
    """Two GOPs of the synthetic pattern, padded with filler NAL units to exactly the
    bitrate: the simple pattern compresses below 8 Mbit/s, a real scene would not."""
    units = encode_pattern(WIDTH, HEIGHT, FPS, BITRATE)
    have = sum(len(u.data) for u in units)
    want = BITRATE // 8 * len(units) // FPS
    out = []
    for u in units:
        extra = max(0, round(len(u.data) * (want - have) / have) - len(FILLER) - 1)
        data = u.data + FILLER + b"\xff" * extra + b"\x80"
        out.append(EncodedFrame(data, u.keyframe, 0))
    return out


def pack_units(units: list[EncodedFrame]) -> bytes:
    return b"".join(struct.pack(">I?", len(u.data), u.keyframe) + u.data for u in units)


def unpack_units(blob: bytes) -> list[EncodedFrame]:
    units, at = [], 0
    while at < len(blob):
        size, key = struct.unpack_from(">I?", blob, at)
        at += 5
        units.append(EncodedFrame(blob[at : at + size], key, 0))
        at += size
    return units


PCM_LOOP_S = 10  # the sound both sides get: this many seconds of the synthetic mic, looped


def pcm_loop() -> npt.NDArray[np.int16]:
    """``PCM_LOOP_S`` of what the synthetic microphone makes (tone and clicks), rendered
    once: ours replays it (``ReplayMicrophone``), the anchor reads it from a file."""
    mic = SyntheticMicrophone(clock=VirtualClock(), sample_rate=RATE, block_size=MIC_BLOCK)
    return np.concatenate([mic.render(n, 0) for n in range(0, PCM_LOOP_S * RATE, MIC_BLOCK)])


def render_pcm(seconds: int) -> bytes:
    """The anchor's sound for ``seconds``, as s16le: the same samples ours replays."""
    loop = pcm_loop()
    return np.resize(loop, seconds * RATE).astype("<i2").tobytes()


class ReplayMicrophone(SyntheticMicrophone):
    """The synthetic microphone with its sound made beforehand, as ``ReplayCamera`` is
    the synthetic camera with its picture encoded beforehand: what the worker measures
    is the kit's path from the block onwards, not the making of a test tone (which a
    real microphone does not do, and the anchor does not do either)."""

    def __init__(self, pcm: npt.NDArray[np.int16], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if len(pcm) % self.block_size:
            raise ValueError("the loop must hold whole blocks")
        self._pcm = pcm
        self._pcm.flags.writeable = False

    def render(self, first: int, start_us: int) -> npt.NDArray[np.int16]:
        at = first % len(self._pcm)
        return self._pcm[at : at + self.block_size]


# --- the worker process: our pipeline ------------------------------------------------


class TimedSink:
    """The film's muxer, noting when the first frame arrives and (on a virtual clock)
    holding the replay sources back to what the muxer has consumed, as a real camera's
    frame rate would: otherwise they outrun the capture queue and frames are dropped."""

    def __init__(self, muxer: Any, pace: Pace | None) -> None:
        self._muxer = muxer
        self._pace = pace
        self._never = threading.Event()
        self.first_frame = threading.Event()
        self.first_at = 0.0

    def add_video(self, frame: EncodedFrame) -> None:
        if not self.first_frame.is_set():
            self.first_at = time.perf_counter()
            self.first_frame.set()
        self._muxer.add_video(frame)
        if self._pace is not None:
            self._pace.wait_until(frame.timestamp_us, self._never)

    def add_audio(self, block: AudioBlock) -> None:
        self._muxer.add_audio(block)

    def close(self) -> None:
        self._muxer.close()


class BenchFilm:
    """The recorder's ``Film``: an ``EncryptedFilm`` whose muxer is seen through a sink."""

    def __init__(self, film: EncryptedFilm, sink: TimedSink) -> None:
        self._film = film
        self.muxer = sink

    def finish(self, result: CaptureResult) -> tuple[int, str]:
        return self._film.finish(result)

    def abandon(self) -> None:
        self._film.abandon()


@dataclass
class Rig:
    recorder: Recorder
    library: Library
    sinks: list[TimedSink]


def build(data: Path, recipient: str, camera: Any, mic: Any, pace: Pace | None) -> Rig:
    """The kit's recording path, put together as ``device.kit.assembly.open_kit`` does."""
    library = Library(data)
    recipients = age.parse_recipients(recipient)
    fmt = FilmFormat(WIDTH, HEIGHT, FPS)
    sinks: list[TimedSink] = []

    def film_factory(rec_id: str, has_audio: bool) -> BenchFilm:
        film = EncryptedFilm(library.data, rec_id, recipients, fmt, has_audio)
        sinks.append(TimedSink(film.muxer, pace))
        return BenchFilm(film, sinks[-1])

    recorder = Recorder(
        library=library,
        camera=camera,
        microphone=mic,
        film_factory=film_factory,
        limits=CaptureLimits(),
        bytes_per_second=BITRATE // 8 + 20_000,
    )
    return Rig(recorder, library, sinks)


def cpu_s(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def record_worker(data: Path, recipient: str, seconds: int, fast: bool) -> dict[str, Any]:
    units = unpack_units(sys.stdin.buffer.read())
    clock = VirtualClock() if fast else RealTimeClock()
    camera = ReplayCamera(units, width=WIDTH, height=HEIGHT, fps=FPS, clock=clock)
    mic = ReplayMicrophone(pcm_loop(), clock=clock, sample_rate=RATE, block_size=MIC_BLOCK)
    # the muxer's place on the virtual clock (see TimedSink)
    pace = clock.join(clock.now_us()) if isinstance(clock, VirtualClock) else None
    rig = build(data, recipient, camera, mic, pace)
    recorder = rig.recorder
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    rec_id = recorder.start(max_seconds=seconds)
    recorder.wait()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    if pace is not None:
        pace.leave()
    if recorder.status.state != RecorderState.IDLE:
        raise SystemExit(f"the recording failed: {recorder.status.fault}")
    row = rig.library.index.get(rec_id)
    rig.library.close()
    return {
        "cpu_s": cpu_s(after) - cpu_s(before),
        "wall_s": wall,
        "film": str(rig.library.data.film(rec_id)),
        "duration_s": row.duration_s,
        "dropped": row.dropped_frames,
    }


def press_worker(data: Path, recipient: str, presses: int) -> dict[str, Any]:
    units = unpack_units(sys.stdin.buffer.read())
    clock = RealTimeClock()
    camera = ReplayCamera(units, width=WIDTH, height=HEIGHT, fps=FPS, clock=clock)
    camera.open()  # warm, as the kit keeps it between recordings
    mic = ReplayMicrophone(pcm_loop(), clock=clock, sample_rate=RATE, block_size=MIC_BLOCK)
    rig = build(data, recipient, camera, mic, None)
    recorder, sinks = rig.recorder, rig.sinks
    latencies, returns = [], []
    for _ in range(presses):
        time.sleep(0.5)
        start = time.perf_counter()
        recorder.start()
        returns.append(time.perf_counter() - start)
        if not sinks[-1].first_frame.wait(10):
            raise SystemExit("no frame reached the muxer within 10 s")
        latencies.append(sinks[-1].first_at - start)
        time.sleep(0.3)
        recorder.stop()
    camera.close()
    rig.library.close()
    return {"first_frame_s": latencies, "start_returns_s": returns}


def main(argv: list[str]) -> dict[str, Any]:
    kind, data, recipient, n = argv[0], Path(argv[1]), argv[2], int(argv[3])
    if kind == "press-worker":
        return press_worker(data, recipient, n)
    if kind == "nosync-worker":
        # A diagnostic, never the kit: what fdatasync after each fragment costs us, as
        # the anchor (ffmpeg | age) never syncs. The writer's own sync calls this.
        os.fdatasync = lambda fd: None
    return record_worker(data, recipient, n, fast=kind != "realtime-worker")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
