"""One film on disk: muxer → fragment index tap → age writer → hashing file → SD card.

Every byte the muxer produces goes straight into the encrypting writer; the fragment
index is gathered on the way through (no second pass, no plaintext). Finishing writes
the age file's final chunk and the encrypted derived files: the fragment index (for
instant seeking on the phone) and the markers pressed on the second button.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from device import age
from device.library import DataDir, HashingFile, write_encrypted, write_encrypted_json
from device.media import FragmentIndex, IndexingWriter, Mp4Muxer
from device.recording.capture import CaptureResult

EMPTY_NOTES = {"version": 1, "marks": [], "clips": [], "stills": [], "notes": {}, "consent": None}


@dataclass(frozen=True)
class FilmFormat:
    width: int
    height: int
    fps: int


class SealingTap(IndexingWriter):
    """Indexes the MP4 on its way to the age writer, and pushes each finished fragment
    all the way to the card.

    An age chunk is sealed only once 64 KiB of plaintext are there (and then only when
    more follows), so the tail of a fragment would wait in memory for the next one: up
    to 2 s lost at a power cut. Right after each fragment, a top-level ``free`` box
    (which every MP4 reader skips) fills the chunk, so the whole fragment is sealed and
    fdatasync'd at once. The cost is on average half a chunk a second (~32 KB/s).
    """

    def __init__(self, writer: age.Writer) -> None:
        super().__init__(writer)
        self._writer = writer
        self._fragments = 0

    def write(self, data: bytes) -> int:
        written = super().write(data)
        fragments = self.index.fragments
        if len(fragments) != self._fragments:
            self._fragments = len(fragments)
            last = fragments[-1]
            if self.scanner.offset == last.offset + last.size:  # at a top-level boundary
                self._seal_through()
        return written

    def _seal_through(self) -> None:
        size = age.CHUNK_SIZE - self._writer.buffered() + 8  # leave 8 padding bytes held
        super().write(struct.pack(">I4s", size, b"free") + bytes(size - 8))
        self._writer.sync()


class EncryptedFilm:
    """Implements the recorder's ``Film`` protocol."""

    def __init__(
        self,
        data: DataDir,
        rec_id: str,
        recipients: Sequence[age.Recipient],
        fmt: FilmFormat,
        has_audio: bool,
    ) -> None:
        self._data = data
        self._id = rec_id
        self._recipients = list(recipients)
        # the film is created exclusively before anything else of the recording is
        # written: an id that is already taken (a clock set back) raises FileExistsError
        # here and never touches the other recording's notes
        self._file = HashingFile(data.film(rec_id))
        try:
            # the empty notes sidecar exists from the start: a person's words only ever
            # go into an encrypted file
            write_encrypted_json(data, rec_id, "notes", EMPTY_NOTES, self._recipients)
        except BaseException:
            self._file.close()
            raise
        self._writer = age.Writer(self._file, self._recipients)
        self._tap = SealingTap(self._writer)
        self.muxer = Mp4Muxer(
            self._tap, width=fmt.width, height=fmt.height, fps=fmt.fps, audio=has_audio
        )

    @property
    def index(self) -> FragmentIndex:
        return self._tap.index

    def finish(self, result: CaptureResult) -> tuple[int, str]:
        self.muxer.close()
        self._writer.close()  # the final STREAM chunk: from here on the file is whole
        self._file.close()
        index = self.index.to_json().encode()
        write_encrypted(self._data, self._id, "index", index, self._recipients)
        if result.markers_us:
            first = result.first_us or 0
            marks = [round((m - first) / 1e6, 3) for m in result.markers_us]
            write_encrypted_json(self._data, self._id, "markers", marks, self._recipients)
        return self._file.size, self._file.sha256

    def abandon(self) -> None:
        """Leave the film unfinished but durable; salvage seals it later."""
        with contextlib.suppress(OSError, ValueError):
            self._writer.sync()
        self._file.close()
