"""The Raspberry Pi camera through picamera2: hardware H.264 and a small JPEG preview.

picamera2 is imported inside methods: it imports libcamera, which only Raspberry Pi OS
ships (apt ``python3-picamera2``; the kit's venv sees it through
``--system-site-packages``). Everything that can be reasoned about without it — settings,
the frame hand-off, clocks, JPEG — lives in ``device.hardware.camera_handoff``.

Threads: picamera2 runs its own camera loop and, while encoding, an encoder thread that
calls our ``Output``; that thread only ever reaches ``FrameHandoff.frame`` (never
blocks). ``preview_jpeg`` runs on the caller's (web) thread, waits at most one second
for a frame, and reuses a JPEG younger than ``preview_max_age_s`` so a page polling the
preview cannot make the Pi encode JPEGs faster than a person can see them.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from device.errors import CameraError
from device.hardware.base import FrameSink
from device.hardware.camera_handoff import FrameHandoff, VideoSettings, yuv420_to_jpeg

log = logging.getLogger(__name__)

_PICAMERA2_HINT = (
    "Install the camera stack with: sudo apt install python3-picamera2 (Raspberry Pi OS), "
    "and build the kit's venv with --system-site-packages."
)
_FRAME_WAIT_S = 1.0


class PiCamera:
    """``Camera`` on a Raspberry Pi camera module; stays warm between recordings."""

    def __init__(
        self,
        width: int = 1920,
        height: int = 1080,
        fps: int = 30,
        bitrate: int = 8_000_000,
        preview_size: tuple[int, int] = (640, 360),
        *,
        camera_num: int = 0,
        jpeg_quality: int = 75,
        preview_max_age_s: float = 0.2,
    ) -> None:
        self.settings = VideoSettings(width, height, fps, bitrate, preview_size)
        self.width, self.height, self.fps = width, height, fps
        self.camera_num = camera_num
        self.jpeg_quality = jpeg_quality
        self.preview_max_age_s = preview_max_age_s
        self._picam: Any = None
        self._encoder: Any = None
        self._handoff = FrameHandoff()
        self._output: Any = None
        self._lock = threading.Lock()  # open/close/encoding changes come from several threads
        self._preview: tuple[float, bytes] | None = None

    @property
    def dropped_frames(self) -> int:
        return self._handoff.dropped

    def open(self) -> None:
        with self._lock:
            if self._picam is not None:
                return
            picamera2 = _import_picamera2()
            try:
                picam = picamera2.Picamera2(self.camera_num)
            except Exception as e:  # IndexError / RuntimeError: no camera, or in use
                raise CameraError(f"no camera found, or it is in use: {e}") from e
            try:
                picam.configure(picam.create_video_configuration(**self.settings.configuration()))
                picam.start()
            except Exception as e:
                picam.close()
                raise CameraError(f"the camera would not start: {e}") from e
            self._picam = picam
            self._handoff = FrameHandoff()  # dropped_frames counts since open
            self._output = _output_class()(self._handoff)

    def close(self) -> None:
        self.stop_encoding()
        with self._lock:
            picam, self._picam, self._preview = self._picam, None, None
            if picam is None:
                return
            try:
                picam.stop()
            finally:
                picam.close()

    def start_encoding(self, sink: FrameSink) -> None:
        self.open()
        with self._lock:
            if self._encoder is not None:
                raise CameraError("the camera is already recording", hint="Stop it first.")
            from picamera2.encoders import H264Encoder

            encoder = H264Encoder(**self.settings.encoder_arguments())
            self._handoff.start(sink, lambda: getattr(encoder, "firsttimestamp", None))
            try:
                self._picam.start_encoder(encoder, self._output)
            except Exception as e:
                self._handoff.stop()
                raise CameraError(f"the video encoder would not start: {e}") from e
            self._encoder = encoder

    def stop_encoding(self) -> None:
        with self._lock:
            encoder, self._encoder = self._encoder, None
            self._handoff.stop()  # first: whatever picamera2 does next, the sink is done
            if encoder is not None and self._picam is not None:
                try:
                    self._picam.stop_encoder(encoder)
                except Exception:  # the recording is already complete on our side
                    log.exception("the video encoder did not stop cleanly")

    def preview_jpeg(self) -> bytes | None:
        cached = self._preview
        if cached is not None and time.monotonic() - cached[0] < self.preview_max_age_s:
            return cached[1]
        picam = self._picam
        if picam is None:
            return None
        try:
            job = picam.capture_array("lores", wait=False)
            array = picam.wait(job, timeout=_FRAME_WAIT_S)
        except Exception as e:  # a stalled camera: no preview, the recorder's watchdog acts
            log.warning("no preview frame: %s", e)
            return None
        width, height = self.settings.preview_size
        jpeg = yuv420_to_jpeg(array, width, height, self.jpeg_quality)
        self._preview = (time.monotonic(), jpeg)
        return jpeg


def _import_picamera2() -> Any:
    try:
        import picamera2
    except ImportError as e:
        raise CameraError(f"picamera2 is not available: {e}", hint=_PICAMERA2_HINT) from e
    return picamera2


def _output_class() -> type:
    """A picamera2 ``Output`` that passes video frames to a ``FrameHandoff``; defined on
    first use because its base class only exists where picamera2 does."""
    from picamera2.outputs import Output

    class HandoffOutput(Output):  # type: ignore[misc]
        def __init__(self, handoff: FrameHandoff) -> None:
            super().__init__()
            self._handoff = handoff

        def outputframe(
            self,
            frame: Any,
            keyframe: bool = True,
            timestamp: int | None = None,
            packet: Any = None,
            audio: bool = False,
        ) -> None:
            if not audio and frame is not None:
                self._handoff.frame(frame, keyframe, timestamp)

    return HandoffOutput
