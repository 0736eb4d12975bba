"""Timeline thumbnails: one small JPEG every couple of seconds, from keyframes only.

Only keyframes are touched, so an hour of film costs one decode per thumbnail: the
fragment index is built by reading just the ``moof`` boxes (``scan_file`` skips the
media data), then for each chosen fragment its ``trun`` gives where its first video
sample (the keyframe) lies, and just those bytes are read and decoded. Through the
decrypting ``age.Reader`` that decrypts a chunk or two per thumbnail, not the film.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import av

from device.errors import MediaFormatError
from device.media.boxes import box_header, find
from device.media.fragments import Fragment, FragmentIndex, scan_file
from device.media.jpeg import mjpeg_encoder
from device.media.source import RangeSource

_MAX_MOOF = 16 * 1024 * 1024
_JPEG_QUALITY = 6  # a 192 px wide timeline picture: small matters more than perfect


@dataclass(frozen=True)
class Thumbnail:
    t_s: float  # film time of the keyframe shown
    jpeg: bytes


def make_thumbnails(
    film: RangeSource, *, every_s: float = 2.0, width: int = 192
) -> list[Thumbnail]:
    """Thumbnails of a seekable, decrypted fragmented MP4 (an ``age.Reader``), in time order:
    the first keyframe, then the first keyframe at least ``every_s`` after the last one."""
    if every_s <= 0 or width < 16:
        raise ValueError("thumbnails need a positive interval and a width of at least 16")
    index = scan_file(film)
    video = index.video
    if video is None or not index.fragments:
        return []
    film.seek(index.init_offset)
    init = _read(film, index.init_size)
    decoder, size = _decoder(init)
    encoder: Any = None
    thumbs: list[Thumbnail] = []
    for t_s, sample in _keyframes(film, index, video.track_id, video.timescale, every_s):
        frame = _decode(decoder, sample)
        if frame is None:
            continue
        height = max(2, round(size[1] * width / size[0] / 2) * 2)
        if encoder is None:
            encoder = mjpeg_encoder(width, height, _JPEG_QUALITY)
        small = frame.reformat(width=width, height=height, format="yuvj420p")
        small.pts = None
        jpeg = b"".join(bytes(p) for p in encoder.encode(small))
        thumbs.append(Thumbnail(round(t_s, 3), jpeg))
    return thumbs


def _keyframes(
    film: RangeSource, index: FragmentIndex, track_id: int, timescale: int, every_s: float
) -> Iterator[tuple[float, bytes]]:
    """(time, first video sample's bytes) of each fragment that starts with a keyframe and
    is due; the sample is read only when it is wanted."""
    due = -1.0
    for fragment in index.fragments:
        run = fragment.run(track_id)
        if run is None or not run.keyframe:
            continue
        t_s = run.start / timescale
        if t_s < due:
            continue
        place = _first_sample(film, fragment, track_id)
        if place is None:
            continue
        film.seek(place[0])
        yield t_s, _read(film, place[1])
        due = t_s + every_s - 1e-6


def _first_sample(film: RangeSource, fragment: Fragment, track_id: int) -> tuple[int, int] | None:
    """(file offset, size) of the first sample of ``track_id`` in the fragment."""
    film.seek(fragment.offset)
    header = box_header(_read(film, 16))
    if header is None or header[1] != b"moof" or not 16 <= header[0] <= _MAX_MOOF:
        raise MediaFormatError("a fragment of the film does not start where its index says")
    film.seek(fragment.offset)
    moof = _read(film, header[0])[header[2] :]
    for traf in find(moof, b"traf"):
        tfhd = next(find(traf, b"tfhd"))
        flags = int.from_bytes(tfhd[1:4], "big")
        if struct.unpack_from(">I", tfhd, 4)[0] != track_id:
            continue
        at, base, default_size = 8, fragment.offset, None
        if flags & 0x01:
            (base,) = struct.unpack_from(">Q", tfhd, at)
            at += 8
        at += (4 if flags & 0x02 else 0) + (4 if flags & 0x08 else 0)
        if flags & 0x10:
            (default_size,) = struct.unpack_from(">I", tfhd, at)
        for trun in find(traf, b"trun"):
            return _trun_first(trun, base, default_size)
    return None


def _trun_first(trun: bytes, base: int, default_size: int | None) -> tuple[int, int] | None:
    flags = int.from_bytes(trun[1:4], "big")
    (count,) = struct.unpack_from(">I", trun, 4)
    if count == 0:
        return None
    at, offset = 8, 0
    if flags & 0x001:
        (offset,) = struct.unpack_from(">i", trun, at)
        at += 4
    at += 4 if flags & 0x004 else 0
    at += 4 if flags & 0x100 else 0  # the first sample's duration comes before its size
    size = struct.unpack_from(">I", trun, at)[0] if flags & 0x200 else default_size
    if size is None:
        raise MediaFormatError("the film's fragments do not say how large their frames are")
    return base + offset, size


def _decoder(init: bytes) -> tuple[Any, tuple[int, int]]:
    """An H.264 decoder set up from the film's own ``moov`` (its ``avcC``)."""
    try:
        with av.open(io.BytesIO(init), "r", format="mp4") as container:
            codec = container.streams.video[0].codec_context
            name, extradata, size = codec.name, codec.extradata, (codec.width, codec.height)
    except (av.FFmpegError, IndexError) as e:
        raise MediaFormatError("the film's header does not describe its video") from e
    decoder = av.CodecContext.create(name, "r")
    decoder.extradata = extradata
    return decoder, size


def _decode(decoder: Any, sample: bytes) -> Any:
    try:
        frames = decoder.decode(av.Packet(sample))
        if not frames:  # an encoder that reorders: drain, then start afresh
            frames = decoder.decode(None)
            decoder.flush_buffers()
    except av.FFmpegError:
        decoder.flush_buffers()
        return None  # one damaged keyframe costs one thumbnail, not the timeline
    return frames[-1] if frames else None


def _read(film: RangeSource, size: int) -> bytes:
    data = film.read(size)
    if data is None or len(data) != size:
        raise MediaFormatError("the film ends before its last fragment does")
    return data
