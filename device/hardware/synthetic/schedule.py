"""When the synthetic sources mark sync: one shared schedule for the flash and the click.

Relative to the recording's anchor (the camera's first encoded frame), the camera shows a
full white frame and the microphone starts a sharp click at t = 1 s, 11 s, 21 s, … so a
test (or a person scrubbing the file) can check picture and sound line up anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator

FLASH_FIRST_US = 1_000_000
FLASH_PERIOD_US = 10_000_000
CLICK_LENGTH_US = 5_000


def flash_offsets_us(from_us: int, to_us: int) -> Iterator[int]:
    """Flash instants (µs after the anchor) in ``[from_us, to_us)``."""
    k = max(0, -(-(from_us - FLASH_FIRST_US) // FLASH_PERIOD_US))
    while (offset := FLASH_FIRST_US + k * FLASH_PERIOD_US) < to_us:
        yield offset
        k += 1


def is_flash_frame(frame_number: int, fps: int) -> bool:
    """True for the frame whose instant (frame_number / fps) is a flash instant."""
    offset_x_fps = frame_number * 1_000_000 - FLASH_FIRST_US * fps
    return offset_x_fps >= 0 and offset_x_fps % (FLASH_PERIOD_US * fps) == 0
