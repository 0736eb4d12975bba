"""Camera, microphone and controls: small Protocols with real and synthetic adapters.

``open_camera`` and ``open_microphone`` are the one place that chooses real or
synthetic parts by name; everything else sees only the Protocols in ``base``.
"""

from __future__ import annotations

from device.errors import ConfigError
from device.hardware.base import Camera, Microphone
from device.hardware.synthetic.pacing import RealTimeClock, SyntheticClock, VirtualClock

__all__ = ["open_camera", "open_microphone"]


def open_camera(
    kind: str, *, width: int, height: int, fps: int, bitrate: int, fast: bool = False
) -> tuple[Camera, SyntheticClock]:
    """The camera, warm; and the clock a synthetic microphone must share with it."""
    clock: SyntheticClock = VirtualClock() if fast else RealTimeClock()
    camera: Camera
    if kind == "synthetic":
        from device.hardware.synthetic import SyntheticCamera

        camera = SyntheticCamera(width, height, fps, bitrate=bitrate, clock=clock)
    elif kind == "picamera2":
        from device.hardware.picamera import PiCamera

        camera = PiCamera(width=width, height=height, fps=fps, bitrate=bitrate)
    else:
        raise ConfigError(f"unknown camera {kind!r}", hint="Use picamera2 or synthetic.")
    camera.open()
    return camera, clock


def open_microphone(spec: str, *, clock: SyntheticClock, fast: bool = False) -> Microphone | None:
    """``synthetic``, ``none`` (picture only), or a sound device by (part of) its name."""
    if spec.lower() == "none":
        return None
    if spec == "synthetic":
        from device.hardware.synthetic import SyntheticMicrophone

        return SyntheticMicrophone(clock=clock)
    from device.hardware.sounddevice_mic import SoundDeviceMicrophone

    return SoundDeviceMicrophone(device=spec or None)
