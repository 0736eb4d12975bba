"""JPEG encoding with FFmpeg's ``mjpeg`` encoder: the one way the kit makes a JPEG
(stills, timeline thumbnails, the live preview's fallback and the synthetic camera's)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av


def mjpeg_encoder(width: int, height: int, qscale: int) -> Any:
    """An open encoder for full-range 4:2:0 frames of this size; ``qscale`` is FFmpeg's
    quantiser, 2 (best) … 31 (smallest)."""
    ctx = av.CodecContext.create("mjpeg", "w")
    ctx.width, ctx.height = width, height
    ctx.pix_fmt = "yuvj420p"
    ctx.time_base = Fraction(1, 25)
    ctx.options = {"qmin": str(qscale), "qmax": str(qscale)}
    ctx.open()
    return ctx
