"""The synthetic test picture, drawn straight into a YUV 4:2:0 buffer with numpy.

Each frame shows a moving texture and bar (so the encoder has real work), a band of
``COUNTER_BITS`` black/white blocks giving the frame number in binary (large enough to
survive H.264 at 320x180 and up), and the running time as digits. Flash frames are white
except the counter band, so their frame number can still be read.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

COUNTER_BITS = 24
_BLACK, _WHITE, _GREY = 16, 235, 128
_FONT = {  # 3x5 digits, row by row
    "0": "111101101101111",
    "1": "010110010010111",
    "2": "111001111100111",
    "3": "111001111001111",
    "4": "101101111001001",
    "5": "111100111001111",
    "6": "111100111101111",
    "7": "111001001001001",
    "8": "111101111101111",
    "9": "111101111001111",
    ":": "000010000010000",
    ".": "000000000000010",
}

Plane = npt.NDArray[np.uint8]


def counter_geometry(width: int, height: int) -> tuple[int, int]:
    """(block width, band height) of the frame-number band."""
    return width // (COUNTER_BITS + 2), max(12, height // 12)


def read_frame_number(luma: Plane) -> int:
    """Decode the frame number from a (decoded) frame's Y plane."""
    height, width = luma.shape
    block, band = counter_geometry(width, height)
    number = 0
    for bit in range(COUNTER_BITS):
        x = (bit + 1) * block
        core = luma[band // 4 : band * 3 // 4, x + block // 4 : x + block * 3 // 4]
        number = number << 1 | int(core.mean() > _GREY)
    return number


class PatternRenderer:
    """Renders frame ``n`` of the pattern into a reusable yuv420p array."""

    def __init__(self, width: int, height: int, fps: int) -> None:
        if width < 64 or height < 64 or width % 2 or height % 2:
            raise ValueError(f"synthetic picture size {width}x{height} must be even and ≥ 64")
        self.width, self.height, self.fps = width, height, fps
        self._yuv = np.full((height * 3 // 2, width), _GREY, np.uint8)
        self._texture = _texture(width, height)
        self._scale = max(2, height // 60)

    def render(self, n: int, *, flash: bool = False) -> Plane:
        """The frame as a (height * 3 / 2, width) yuv420p array (reused between calls)."""
        luma = self._yuv[: self.height]
        if flash:
            luma.fill(255)
        else:
            dx = (n * 4) % self.width
            dy = (n * 2) % self.height
            luma[:] = self._texture[dy : dy + self.height, dx : dx + self.width]
            bar = (n * max(2, self.width // 120)) % self.width
            luma[:, bar : bar + max(4, self.width // 40)] = _WHITE
            self._draw_time(luma, n)
        self._draw_counter(luma, n)
        return self._yuv

    def _draw_counter(self, luma: Plane, n: int) -> None:
        block, band = counter_geometry(self.width, self.height)
        luma[:band] = _GREY
        for bit in range(COUNTER_BITS):
            x = (bit + 1) * block
            on = n >> (COUNTER_BITS - 1 - bit) & 1
            luma[:band, x : x + block] = _WHITE if on else _BLACK

    def _draw_time(self, luma: Plane, n: int) -> None:
        seconds, frame = divmod(n, self.fps)
        text = f"{seconds // 60:02d}:{seconds % 60:02d}.{frame * 100 // self.fps:02d}"
        glyphs = np.hstack([_glyph(c) for c in text]).astype(bool)
        mask = np.kron(glyphs, np.ones((self._scale, self._scale), bool))
        top = counter_geometry(self.width, self.height)[1] + self._scale
        h, w = mask.shape
        if top + h <= self.height and 8 + w <= self.width:
            region = luma[top : top + h, 8 : 8 + w]
            region[:] = np.where(mask, _WHITE, _BLACK)


def _glyph(char: str) -> npt.NDArray[np.uint8]:
    cells = np.array([int(c) for c in _FONT[char]], np.uint8).reshape(5, 3)
    return np.hstack([cells, np.zeros((5, 1), np.uint8)])  # one column of spacing


def _texture(width: int, height: int) -> Plane:
    """A (2h, 2w) periodic texture: soft diagonal waves plus a checkerboard."""
    y, x = np.mgrid[0 : 2 * height, 0 : 2 * width]
    waves = 60 + 40 * np.sin(2 * np.pi * (x / width * 3 + y / height * 2))
    cell = max(8, height // 9)
    checker = ((x // cell + y // cell) % 2) * 30
    texture: Plane = np.clip(waves + checker, _BLACK, 200).astype(np.uint8)
    return texture
