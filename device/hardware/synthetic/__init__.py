"""Synthetic camera and microphone that behave like the kit's hardware, and can fail.

They run in real time on ``RealTimeClock`` or as fast as possible on a shared
``VirtualClock`` (give the camera and the microphone the same one). Flashes and clicks
follow ``schedule``: at 1 s after the camera's first frame, then every 10 s.
"""

from __future__ import annotations

from device.hardware.synthetic.camera import SyntheticCamera
from device.hardware.synthetic.microphone import SyntheticMicrophone
from device.hardware.synthetic.pacing import RealTimeClock, SyntheticClock, VirtualClock
from device.hardware.synthetic.pattern import read_frame_number
from device.hardware.synthetic.replay import ReplayCamera, encode_pattern
from device.hardware.synthetic.schedule import (
    FLASH_FIRST_US,
    FLASH_PERIOD_US,
    flash_offsets_us,
    is_flash_frame,
)

__all__ = [
    "FLASH_FIRST_US",
    "FLASH_PERIOD_US",
    "RealTimeClock",
    "ReplayCamera",
    "SyntheticCamera",
    "SyntheticClock",
    "SyntheticMicrophone",
    "VirtualClock",
    "encode_pattern",
    "flash_offsets_us",
    "is_flash_frame",
    "read_frame_number",
]
