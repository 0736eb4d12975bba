"""A recording, from the button's press to a sealed, encrypted film on the card.

``Recorder`` (the state machine: idle, recording, finalizing, fault) starts a
``Capture`` (camera frames and microphone blocks, merged in time order on one thread)
into an ``EncryptedFilm`` (muxer → fragment index → age writer → card). After a power
cut, ``seal_interrupted`` turns a cut-off film into a proper one once a key is at hand.
The hand-off pieces inside a capture (``_gather``, ``_inbox``, ``_merge``) are private.
"""

from device.recording.capture import CaptureLimits, CaptureResult
from device.recording.film import EncryptedFilm, FilmFormat
from device.recording.recorder import Recorder, RecorderState, Status
from device.recording.recovery import SealReport, seal, seal_interrupted

__all__ = [
    "CaptureLimits",
    "CaptureResult",
    "EncryptedFilm",
    "FilmFormat",
    "Recorder",
    "RecorderState",
    "SealReport",
    "Status",
    "seal",
    "seal_interrupted",
]
