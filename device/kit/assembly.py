"""The composition root: settings in, a working kit out.

Only this module (and the CLI that calls it) turns settings into parts: it opens the
library, chooses real or synthetic hardware, reads the recipients and builds the
recorder, passing every part in by keyword.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from device import age
from device.cases import CaseStore, finish_erasures
from device.config import Config
from device.errors import MicrophoneError, VigKitError
from device.hardware import open_camera, open_microphone
from device.hardware.base import Camera, Microphone
from device.library import Library, atomic_write
from device.recording.capture import CaptureLimits
from device.recording.film import EncryptedFilm, FilmFormat
from device.recording.recorder import Recorder

log = logging.getLogger(__name__)


@dataclass
class Kit:
    library: Library
    camera: Camera
    microphone: Microphone | None
    recorder: Recorder
    recipients: list[age.Recipient]
    cases: CaseStore

    def close(self) -> None:
        self.recorder.close()  # stops a recording, and the microphone's listening
        self.camera.close()
        self.cases.close()  # the registry's copy a film's start left pending
        self.library.close()


def load_recipients(library: Library, extra: Sequence[age.Recipient] = ()) -> list[age.Recipient]:
    """The data dir's recipients; ``extra`` (from ``-r``/``-R``) seeds a bare data dir."""
    path = library.data.recipients_file
    if extra and not path.exists():
        text = "".join(f"{r}\n" for r in extra)
        atomic_write(path, text.encode(), 0o644)
    if not path.exists():
        raise VigKitError(
            f"{path} does not exist, so there is no key to encrypt to",
            hint="Run vigkit setup, or give the office's public key with -r age1… .",
        )
    recipients = age.parse_recipients(path.read_text())
    known = {str(r) for r in recipients}
    recipients += [r for r in extra if str(r) not in known]
    if not recipients:
        raise VigKitError(f"{path} lists no keys", hint="Add the office's age1… public key.")
    return recipients


def open_kit(cfg: Config, extra_recipients: Sequence[age.Recipient] = ()) -> Kit:
    library = Library(cfg.data_dir)
    try:
        library.mark_interrupted()
        cases = CaseStore(library)  # after a rebuilt index: films get their case back
        finish_erasures(library)  # an "erase now" a power cut cut short
        recipients = load_recipients(library, extra_recipients)
        camera, clock = open_camera(
            cfg.camera,
            width=cfg.width,
            height=cfg.height,
            fps=cfg.fps,
            bitrate=cfg.bitrate,
            fast=cfg.fast,
        )
        try:
            microphone = open_microphone(cfg.microphone, clock=clock, fast=cfg.fast)
        except MicrophoneError as e:  # record the picture anyway; the page says why
            log.warning("%s: recording picture only", e.message)
            microphone = None
        fmt = FilmFormat(cfg.width, cfg.height, cfg.fps)
        recorder = Recorder(
            library=library,
            camera=camera,
            microphone=microphone,
            film_factory=lambda rec_id, has_audio: EncryptedFilm(
                library.data, rec_id, recipients, fmt, has_audio
            ),
            limits=CaptureLimits(
                watchdog_s=cfg.watchdog_seconds, reserve_bytes=cfg.storage_reserve_mb * 1_000_000
            ),
            bytes_per_second=cfg.bitrate // 8 + 20_000,
            filing=cases.registry.file_recording,
        )
    except BaseException:
        library.close()
        raise
    return Kit(library, camera, microphone, recorder, recipients, cases)
