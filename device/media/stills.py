"""A still: the frame on screen at a time in the film, decoded in memory, as a JPEG.

Decoding starts at the keyframe at or before the time (at most one second of frames
with the kit's 1 s keyframe interval) and stops at the frame asked for. The JPEG is
encoded by FFmpeg's ``mjpeg`` encoder into bytes; the caller encrypts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import av

from device.errors import ClipRangeError, ExportError
from device.media.fragments import FragmentIndex
from device.media.jpeg import mjpeg_encoder
from device.media.source import RangeSource
from device.media.window import FRAME_EPSILON_S, Timeline, open_window

JPEG_QUALITY = 2  # mjpeg qscale, 2 (best) … 31; a still is printed or shown full screen


@dataclass(frozen=True)
class Still:
    jpeg: bytes
    frame_s: float  # the film time of the frame shown
    width: int
    height: int


def grab_still(film: RangeSource, index: FragmentIndex, t_s: float) -> Still:
    """The frame on screen at ``t_s`` (the last frame starting at or before it)."""
    timeline = Timeline.of(index)
    if not (timeline.start_s - FRAME_EPSILON_S <= t_s < timeline.end_s):
        raise ClipRangeError(
            f"there is no frame at {t_s:.2f} s; the film runs to {timeline.end_s:.2f} s",
            hint="Choose a time inside the film.",
        )
    window = open_window(index, film, t_s, t_s, margin=0)
    try:
        with av.open(window, "r", format="mp4") as source:
            stream = source.streams.video[0]
            frame = _frame_at(source, stream, t_s)
            return Still(
                jpeg=encode_jpeg(frame),
                frame_s=float(frame.pts * stream.time_base),
                width=frame.width,
                height=frame.height,
            )
    except av.FFmpegError as e:
        raise ExportError(f"the still could not be made: {e}") from e


def _frame_at(source: Any, stream: Any, t_s: float) -> Any:
    shown = None
    for frame in source.decode(stream):
        if frame.pts is None:
            continue
        if float(frame.pts * stream.time_base) > t_s + FRAME_EPSILON_S:
            break
        shown = frame
    if shown is None:
        raise ExportError("the film has no frame at that time")
    return shown


def encode_jpeg(frame: Any, *, quality: int = JPEG_QUALITY) -> bytes:
    """One decoded video frame as a baseline JPEG (full-range 4:2:0)."""
    ctx = mjpeg_encoder(frame.width, frame.height, quality)
    picture = frame.reformat(format="yuvj420p")
    picture.pts = None
    return b"".join(bytes(p) for p in [*ctx.encode(picture), *ctx.encode(None)])
