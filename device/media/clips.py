"""Cutting a clip out of a recorded film, in memory: stream copy with an edit list, or exact.

Stream copy (the default) takes the packets from the keyframe at or before the in point
to the out point unchanged, with timestamps shifted so the chosen frame is at 0: the
frames before it get negative times, and FFmpeg's ``mov`` muxer then writes an edit
list (``elst`` with a media time) that starts presentation at the chosen frame. Audio
is copied the same way, trimmed by its own edit list. It costs no decoding at all.

Chromium and WebKitGTK 2.50 honour that edit list (checked by reading the frame number
shown at 0 s and at the end of a clip cut mid-GOP: both show the chosen frame and the
edit list's duration). Some players ignore edit lists and would show the run-up, so
``exact=True`` decodes from the keyframe and re-encodes the chosen frames with libx264
(no B-frames, so no edit list is needed for reordering); audio is copied from the
first packet at or after the in point.

Packets stream from the demuxer to the muxer: only the run-up from the keyframe (at
most a second) is held until the in frame is found. The result is a plain
(non-fragmented) MP4 with its ``moov`` first: the muxer reserves room for it at the
start (FFmpeg's ``moov_size``, sized from the film's samples per second by
:func:`moov_room`), streams the samples after it, and fills the room in at the end. It
writes into the caller's seekable output — on the kit an ``age.HeadFirstWriter``, which
holds only that first part in memory — so a two-minute clip never sits in RAM whole.
Nothing here touches the disk.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import IO, Any

import av

from device.errors import ExportError
from device.media.fragments import FragmentIndex
from device.media.source import RangeSource
from device.media.window import FRAME_EPSILON_S, check_range, open_window

MAX_CLIP_S = 120.0  # VIG clips are seconds long; this stops a mistaken hour-long "clip"
_EXACT_TIMEBASE = Fraction(1, 90_000)
_EXACT_CRF = "18"  # visually lossless for a clip that is watched, not archived


@dataclass(frozen=True)
class ClipCut:
    """A clip that was cut: where it lies in the film (frame-aligned), its size, and the
    MP4 itself when it was cut into memory (``parts``: empty when it streamed out)."""

    first_frame_s: float  # the film time of the clip's first shown frame
    duration_s: float  # from the first shown frame to the end of the last
    frames: int  # frames shown
    exact: bool
    size: int
    parts: tuple[bytes | memoryview, ...] = ()

    @property
    def mp4(self) -> bytes:
        return b"".join(self.parts)


# the moov's bytes per sample at worst (stsz, stts, ctts, stss, stsc and a chunk offset
# each) and what it needs whatever the length; samples per second when the index has none
_MOOV_PER_SAMPLE = 48
_MOOV_FIXED = 16 * 1024
_FALLBACK_RATE = 200.0  # 120 frames/s and 80 sound packets/s: more than any kit records
_RUN_UP_S = 3.0  # the keyframe before the in point and the window's margin


def moov_room(index: FragmentIndex, in_s: float, out_s: float) -> int:
    """Bytes to reserve for the clip's ``moov`` at the start of the file: every track's
    samples per second in this film, over the clip and its run-up, at the worst size
    a sample takes in a ``moov``, with a quarter to spare."""
    duration = index.video_duration_s()
    counts = [len(s.table().sizes) for s in index.samples.values()]
    rate = sum(counts) / duration if counts and duration > 0 else _FALLBACK_RATE
    samples = math.ceil(rate * (out_s - in_s + _RUN_UP_S) * 1.25)
    return _MOOV_FIXED + samples * _MOOV_PER_SAMPLE


def cut_clip(
    film: RangeSource,
    index: FragmentIndex,
    in_s: float,
    out_s: float,
    *,
    exact: bool = False,
    max_s: float = MAX_CLIP_S,
    out: IO[bytes] | Any = None,
) -> ClipCut:
    """The clip from the frame on screen at ``in_s`` up to (not including) ``out_s``,
    written into ``out`` (seekable; room for the ``moov`` first: :func:`moov_room`
    bytes after the ``ftyp`` may be rewritten), or into memory when ``out`` is None."""
    check_range(index, in_s, out_s, max_s)
    memory = io.BytesIO() if out is None else None
    sink_file = out if memory is None else memory
    options = {"moov_size": str(moov_room(index, in_s, out_s))}
    window = open_window(index, film, in_s, out_s)
    try:
        with av.open(window, "r", format="mp4") as source:
            video, audio = source.streams.video[0], _first(source.streams.audio)
            # Read while the source is open: PyAV 19 refuses a closed container's streams.
            tb: Fraction | None = video.time_base
            with av.open(sink_file, "w", format="mp4", options=options) as sink:
                # every stream must exist before the first packet is muxed
                vout = _encoder(sink, video) if exact else sink.add_stream_from_template(video)
                aout = None if audio is None else sink.add_stream_from_template(audio)
                cut = _Cut(sink, video, vout, aout, in_s, out_s, exact)
                for packet in source.demux():
                    if packet.dts is not None and packet.size:
                        cut.add(packet)
                cut.finish()
    except av.FFmpegError as e:
        raise ExportError(f"the clip could not be cut: {e}") from e
    if not cut.frames or cut.start is None:
        raise ExportError("no frame of the film lies between the in and out points")
    if tb is None:
        raise ExportError("the film's video has no time base")
    return ClipCut(
        first_frame_s=float(cut.start * tb),
        duration_s=float((cut.end - cut.start) * tb),
        frames=cut.frames,
        exact=exact,
        size=sink_file.seek(0, io.SEEK_END),
        parts=() if memory is None else (memory.getbuffer(),),
    )


def _first(streams: Any) -> Any:
    return streams[0] if len(streams) else None


class _Cut:
    """Takes the window's packets in demux order and muxes the clip's.

    Until the frame on screen at the in point is known (the first frame after it has
    arrived), video packets since the last keyframe and the audio are held; then the
    shift is known and everything streams through.
    """

    def __init__(
        self, sink: Any, video: Any, vout: Any, aout: Any, in_s: float, out_s: float, exact: bool
    ) -> None:
        self.sink, self.video, self.vout, self.aout, self.exact = sink, video, vout, aout, exact
        tb = video.time_base
        self.in_pts = (Fraction(in_s) + Fraction(FRAME_EPSILON_S)) / tb
        self.out_pts = (Fraction(out_s) - Fraction(FRAME_EPSILON_S)) / tb
        self.held_video: list[Any] = []
        self.held_audio: list[Any] = []
        self.start: int | None = None  # pts of the first shown frame
        self.end = 0  # pts at which the last shown frame ends
        self.frames = 0
        self.decoder = video.codec_context if exact else None
        if self.decoder is not None:
            self.decoder.thread_type = "AUTO"

    def add(self, packet: Any) -> None:
        if packet.stream.type == "video":
            if self.start is None:
                if packet.pts <= self.in_pts:
                    if packet.is_keyframe:
                        self.held_video = []  # the run-up starts at the latest keyframe
                    self.held_video.append(packet)
                    return
                self._begin()
            self._video(packet)
        elif self.aout is not None and packet.stream.type == "audio":
            if self.start is None:
                self.held_audio.append(packet)
            else:
                self._audio(packet)

    def finish(self) -> None:
        if self.start is None:
            self._begin()
        if self.decoder is not None and self.start is not None:
            for frame in self.decoder.decode(None):
                self._encode(frame)
            self.sink.mux(self.vout.encode(None))

    def _begin(self) -> None:
        if not self.held_video:
            return
        self.start = self.held_video[-1].pts  # the frame on screen at the in point
        held, self.held_video = self.held_video, []
        for packet in held:
            self._video(packet)
        audio, self.held_audio = self.held_audio, []
        for packet in audio:
            self._audio(packet)

    def _video(self, packet: Any) -> None:
        assert self.start is not None
        if packet.pts > self.out_pts:
            return
        if packet.pts >= self.start:
            self.frames += 1
            self.end = max(self.end, packet.pts + packet.duration)
        if self.decoder is not None:
            for frame in self.decoder.decode(packet):
                self._encode(frame)
            return
        packet.pts -= self.start  # negative before the in frame: the edit list skips them
        packet.dts -= self.start
        packet.stream = self.vout
        self.sink.mux(packet)

    def _encode(self, frame: Any) -> None:
        assert self.start is not None
        if frame.pts is None or not self.start <= frame.pts <= self.out_pts:
            return
        tb = self.video.time_base
        frame.pts = round((frame.pts - self.start) * tb / _EXACT_TIMEBASE)
        frame.time_base = _EXACT_TIMEBASE
        frame.pict_type = av.video.frame.PictureType.NONE  # let x264 choose
        self.sink.mux(self.vout.encode(frame))

    def _audio(self, packet: Any) -> None:
        assert self.start is not None
        vtb, tb = self.video.time_base, packet.time_base
        start, out = self.start * vtb, self.out_pts * vtb
        t0, t1 = packet.pts * tb, (packet.pts + packet.duration) * tb
        # exact: nothing before the in point (no edit list needed); copy: the packet that
        # straddles the in point too, trimmed by the audio track's edit list
        if t1 <= start or t0 >= out or (self.exact and t0 < start):
            return
        shift = round(start / tb)
        packet.pts -= shift
        packet.dts -= shift
        packet.stream = self.aout
        self.sink.mux(packet)


def _encoder(sink: Any, stream: Any) -> Any:
    rate = stream.average_rate or stream.guessed_rate or Fraction(30, 1)
    out = sink.add_stream("libx264", rate=rate)
    out.width, out.height = stream.codec_context.width, stream.codec_context.height
    out.pix_fmt = "yuv420p"
    out.time_base = _EXACT_TIMEBASE
    out.codec_context.time_base = _EXACT_TIMEBASE
    out.codec_context.max_b_frames = 0
    out.codec_context.options = {"preset": "veryfast", "crf": _EXACT_CRF, "bf": "0"}
    return out
