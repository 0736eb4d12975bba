"""libx264 (through PyAV) set up to behave like the Pi's hardware H.264 encoder.

Annex B with SPS/PPS repeated on every keyframe, a keyframe exactly every ``fps`` frames
and never elsewhere (no scene-cut keyframes, or the flash frames would become one), no
B-frames so decode order is presentation order, and zero-latency so each frame comes back
as one access unit at once. Also a small JPEG encoder for the preview.
"""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import numpy.typing as npt

from device.media.jpeg import mjpeg_encoder
from device.media.packets import EncodedFrame


class H264Encoder:
    """One encoder per recording: the first access unit it returns is a keyframe."""

    def __init__(self, width: int, height: int, fps: int, bitrate: int) -> None:
        ctx = av.CodecContext.create("libx264", "w")
        ctx.width, ctx.height = width, height
        ctx.pix_fmt = "yuv420p"
        ctx.framerate = Fraction(fps, 1)
        ctx.time_base = Fraction(1, fps)
        ctx.bit_rate = bitrate
        ctx.gop_size = fps
        ctx.max_b_frames = 0
        ctx.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "x264opts": (
                f"keyint={fps}:min-keyint={fps}:scenecut=0:bframes=0:repeat-headers=1:annexb=1"
            ),
        }
        ctx.open()
        self._ctx = ctx
        self._n = 0

    def encode(self, yuv420p: npt.NDArray[np.uint8], timestamp_us: int) -> EncodedFrame:
        frame = av.VideoFrame.from_ndarray(yuv420p, format="yuv420p")
        frame.pts = self._n
        self._n += 1
        packets = self._ctx.encode(frame)
        if len(packets) != 1:  # zerolatency and no B-frames: one in, one out
            raise RuntimeError(f"libx264 returned {len(packets)} packets for one frame")
        packet = packets[0]
        return EncodedFrame(bytes(packet), bool(packet.is_keyframe), timestamp_us)


class JpegEncoder:
    """Encodes small yuv420p frames as baseline JPEG for the preview."""

    def __init__(self, width: int, height: int, quality: int = 5) -> None:
        self._ctx = mjpeg_encoder(width, height, quality)

    def encode(self, yuv420p: npt.NDArray[np.uint8]) -> bytes:
        frame = av.VideoFrame.from_ndarray(yuv420p, format="yuv420p").reformat(format="yuvj420p")
        return b"".join(bytes(p) for p in self._ctx.encode(frame))
