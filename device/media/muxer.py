"""Fragmented MP4 muxer: H.264 passthrough plus AAC, into a write-only, unseekable stream.

The output is the age encrypting writer, so the muxer must never seek: ``empty_moov``
writes the ``moov`` first, ``frag_keyframe`` starts one ``moof``+``mdat`` fragment per
keyframe (1 s), and ``default_base_moof`` makes each fragment self-contained. After a
power cut the file plays up to its last complete fragment.

The caller merges camera and microphone by timestamp and calls ``add_video`` /
``add_audio`` from one thread. Nothing is written until the first keyframe arrives,
because its SPS/PPS become the ``avcC`` box in the ``moov``: frames before it are dropped,
sound before it is held, and the film starts with its keyframe and the sound that reaches
into it (``started_us`` says when; the recording's capture goes by it). This is the
recording's one keyframe and early-sound gate.
"""

from __future__ import annotations

from collections import deque
from fractions import Fraction
from typing import Any

import av

from device.errors import MuxerError
from device.media.annexb import parameter_sets
from device.media.audio import AacTrack
from device.media.packets import AudioBlock, EncodedFrame

VIDEO_TIMESCALE = 90_000
_MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"
# FFmpeg holds packets back until every stream has one; if the microphone dies, cap the
# wait so video fragments still reach the writer within about a second.
_MAX_INTERLEAVE_US = 500_000
_MAX_EARLY_AUDIO = 256  # blocks kept while waiting for the first keyframe (~5 s)
_NOT_STARTED = 1 << 62  # every block ends before it: none is sent before the start


class Mp4Muxer:
    """Writes one recording. ``add_video``/``add_audio`` in timestamp order, then ``close``."""

    def __init__(
        self,
        out: Any,
        *,
        width: int,
        height: int,
        fps: int,
        audio: bool = True,
        sample_rate: int = 48_000,
        audio_bitrate: int = 96_000,
        origin_us: int | None = None,
    ) -> None:
        self._out = out
        self._size = (width, height)
        self._fps = fps
        self._audio_wanted = audio
        self._sample_rate = sample_rate
        self._audio_bitrate = audio_bitrate
        self._origin_us = origin_us
        self._container: Any = None
        self._video: Any = None
        self._audio: AacTrack | None = None
        self._held: EncodedFrame | None = None  # muxed once the next frame gives its duration
        self._early_audio: deque[AudioBlock] = deque(maxlen=_MAX_EARLY_AUDIO)
        self._started_us = _NOT_STARTED  # the first keyframe's timestamp, once muxed
        self._closed = False
        self.video_frames = 0
        self.dropped_video = 0

    @property
    def started_us(self) -> int | None:
        """The film's first picture (its first keyframe): None until it has arrived."""
        return None if self._started_us == _NOT_STARTED else self._started_us

    @property
    def dropped_audio(self) -> int:
        return self._audio.dropped_blocks if self._audio else 0

    def add_video(self, frame: EncodedFrame) -> None:
        self._check_open()
        if self._container is None and not (frame.keyframe and self._start(frame)):
            self.dropped_video += 1  # nothing plays before the first keyframe
            return
        held = self._held
        if held is not None and frame.timestamp_us <= held.timestamp_us:
            self.dropped_video += 1  # duplicate or backwards: keep the stream monotonic
            return
        if held is not None:
            self._mux_video(held, frame.timestamp_us - held.timestamp_us)
        self._held = frame

    def add_audio(self, block: AudioBlock) -> None:
        self._check_open()
        if not self._audio_wanted:
            return
        if self._block_end(block) <= self._started_us:
            if self._container is None:
                self._early_audio.append(block)
            return  # held until the first keyframe, or sound from before the film
        assert self._audio is not None
        self._mux(self._audio.add(block))

    def close(self) -> None:
        """Write everything held back and the trailer; the output object stays open."""
        if self._closed:
            return
        self._closed = True
        if self._container is None:
            raise MuxerError("no keyframe arrived from the camera, so nothing was recorded")
        try:
            if self._held is not None:
                self._mux_video(self._held, round(1_000_000 / self._fps))
            if self._audio is not None:
                self._mux(self._audio.flush())
            self._container.close()
        except (av.FFmpegError, OSError) as e:
            raise MuxerError("could not finish the recording's MP4") from e

    def _check_open(self) -> None:
        if self._closed:
            raise MuxerError("the recording was already closed; no more frames can be added")

    def _start(self, first: EncodedFrame) -> bool:
        """Open the container from the first keyframe; False if it lacks SPS/PPS."""
        extradata = parameter_sets(first.data)
        if extradata is None:
            return False
        if self._origin_us is None:
            self._origin_us = first.timestamp_us
        options = {
            "movflags": _MOVFLAGS,
            "flush_packets": "1",  # hand each fragment to the writer as soon as it is whole
            "max_interleave_delta": str(_MAX_INTERLEAVE_US),
        }
        try:
            self._container = av.open(self._out, "w", format="mp4", options=options)
            self._video = self._add_video_stream(extradata)
            if self._audio_wanted:
                stream = self._container.add_stream("aac", rate=self._sample_rate, layout="mono")
                stream.bit_rate = self._audio_bitrate
                self._audio = AacTrack(stream, self._sample_rate, self._origin_us)
        except (av.FFmpegError, OSError, ValueError) as e:
            raise MuxerError("could not start the recording's MP4") from e
        self._started_us = first.timestamp_us
        for block in self._early_audio:  # the sound that reaches into the first picture
            self.add_audio(block)
        self._early_audio.clear()
        return True

    def _block_end(self, block: AudioBlock) -> int:
        return block.timestamp_us + len(block.samples) * 1_000_000 // self._sample_rate

    def _add_video_stream(self, extradata: bytes) -> Any:
        stream = self._container.add_stream("h264", rate=self._fps)
        stream.width, stream.height = self._size
        stream.time_base = Fraction(1, VIDEO_TIMESCALE)
        stream.codec_context.extradata = extradata
        return stream

    def _mux_video(self, frame: EncodedFrame, duration_us: int) -> None:
        assert self._origin_us is not None
        packet = av.Packet(frame.data)
        packet.stream = self._video
        packet.time_base = Fraction(1, VIDEO_TIMESCALE)
        packet.pts = packet.dts = _to_ticks(frame.timestamp_us - self._origin_us)
        packet.duration = max(1, _to_ticks(duration_us))
        packet.is_keyframe = frame.keyframe
        self.video_frames += 1
        self._mux([packet])

    def _mux(self, packets: list[Any]) -> None:
        try:
            for packet in packets:
                self._container.mux(packet)
        except (av.FFmpegError, OSError) as e:
            raise MuxerError("could not write the recording's MP4") from e


def _to_ticks(us: int) -> int:
    return round(us * VIDEO_TIMESCALE / 1_000_000)
