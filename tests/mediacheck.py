"""What a viewer would check in a film, done on bytes held in memory (never on disk):
ffprobe through a pipe, the flash frames and the click onsets of the synthetic sources."""

from __future__ import annotations

import io
import json
import subprocess

import av
import numpy as np


def ffprobe(mp4: bytes) -> dict:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            "-i",
            "pipe:0",
        ],
        input=mp4,
        capture_output=True,
        check=True,
    ).stdout
    return json.loads(out)


def stream_duration(mp4: bytes, stream: str = "v") -> float:
    """Seconds from the first packet to the end of the last, as ffprobe reads them.

    A fragmented MP4 read from a pipe has no duration in its header (ffprobe's
    format.duration only covers the first fragment), so count what is really there."""
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            stream,
            "-show_entries",
            "packet=pts_time,duration_time",
            "-of",
            "json",
            "-i",
            "pipe:0",
        ],
        input=mp4,
        capture_output=True,
        check=True,
    ).stdout
    packets = json.loads(out)["packets"]
    starts = [float(p["pts_time"]) for p in packets]
    ends = [float(p["pts_time"]) + float(p.get("duration_time", 0)) for p in packets]
    return max(ends) - min(starts) if packets else 0.0


def ffmpeg_decodes(mp4: bytes) -> tuple[int, str]:
    """Decode every frame with ffmpeg; (exit code, errors printed)."""
    p = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "pipe:0", "-f", "null", "-"],
        input=mp4,
        capture_output=True,
    )
    return p.returncode, p.stderr.decode(errors="replace")


def flash_times(mp4: bytes, threshold: float = 200.0) -> list[float]:
    """Presentation times (s) of frames that are (almost) all white."""
    times = []
    with av.open(io.BytesIO(mp4)) as c:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in c.decode(stream):
            luma = frame.to_ndarray(format="gray")
            if luma.mean() > threshold:
                times.append(float(frame.pts * stream.time_base))
    return times


def click_onsets(mp4: bytes, threshold: float = 0.3, gap_s: float = 0.5) -> list[float]:
    """Times (s) where the sound first jumps above ``threshold`` after ``gap_s`` of quiet.

    The synthetic click is at 0.7 of full scale; AAC's low-pass leaves about 0.33."""
    with av.open(io.BytesIO(mp4)) as c:
        stream = c.streams.audio[0]
        chunks, start = [], None
        for frame in c.decode(stream):
            if start is None:
                start = float(frame.pts * stream.time_base)
            chunks.append(frame.to_ndarray().reshape(-1))
        rate = stream.rate
    samples = np.abs(np.concatenate(chunks))
    loud = np.flatnonzero(samples > threshold)
    onsets, last = [], -np.inf
    for i in loud:
        if i - last > gap_s * rate:
            onsets.append((start or 0.0) + i / rate)
        last = i
    return onsets
