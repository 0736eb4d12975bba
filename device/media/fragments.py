"""The fragment index of a fragmented MP4: where the init segment and each fragment lie.

``FragmentScanner`` watches the muxer's bytes go by (``IndexingWriter`` puts it between
the muxer and the encrypting writer), so the index costs no extra pass and no plaintext.
``scan_file`` builds the same index from a readable, seekable file — a decrypting reader
over an interrupted recording. Each complete fragment's per-sample tables are kept too
(``samples``), so playback plans its progressive MP4 (``progressive``) from the index alone.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import IO, Any

from device.errors import MediaFormatError
from device.media.boxes import TrackInfo, TrackRun, box_header, parse_moov
from device.media.samples import RunSamples, SampleTable, TrackSamples, parse_moof, summarize
from device.media.source import RangeSource

_INDEX_VERSION = 2  # 2 adds the per-sample tables; 1 (no tables) is still read
_PARSED = (b"ftyp", b"moov", b"moof")  # boxes kept whole; everything else is skipped
_MAX_PARSED_BOX = 64 * 1024 * 1024  # a moov/moof bigger than this is not ours
_TO_END = 1 << 62  # size 0 means "runs to the end of the file"


@dataclass(frozen=True, slots=True)
class Fragment:
    """One complete ``moof`` + ``mdat`` pair."""

    offset: int
    size: int
    runs: tuple[TrackRun, ...]

    def run(self, track_id: int) -> TrackRun | None:
        return next((r for r in self.runs if r.track_id == track_id), None)


@dataclass(slots=True)
class FragmentIndex:
    """Init segment range, tracks and complete fragments, in file order; with each
    track's sample tables (empty when read from a version 1 index)."""

    init_offset: int = 0
    init_size: int = 0
    tracks: tuple[TrackInfo, ...] = ()
    fragments: list[Fragment] = field(default_factory=list)
    samples: dict[int, TrackSamples] = field(default_factory=dict)

    def add(self, fragment: Fragment, runs: list[RunSamples]) -> None:
        """A complete fragment, and its runs' samples."""
        self.fragments.append(fragment)
        for run in runs:
            self.samples.setdefault(run.track_id, TrackSamples()).add(run)

    def sample_tables(self) -> dict[int, SampleTable] | None:
        """Each track's samples, or None if this index does not hold them (version 1)."""
        if self.fragments and not self.samples:
            return None
        return {tid: samples.table() for tid, samples in self.samples.items()}

    @property
    def video(self) -> TrackInfo | None:
        return next((t for t in self.tracks if t.kind == "video"), None)

    def video_runs(self) -> list[TrackRun]:
        """The video track's run of each fragment (start, duration, keyframe)."""
        video = self.video
        if video is None:
            return []
        return [r for f in self.fragments if (r := f.run(video.track_id)) is not None]

    def video_duration_s(self) -> float:
        video, runs = self.video, self.video_runs()
        if video is None or not runs:
            return 0.0
        return (runs[-1].start + runs[-1].duration - runs[0].start) / video.timescale

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": _INDEX_VERSION,
                "init": [self.init_offset, self.init_size],
                "tracks": [[t.track_id, t.kind, t.timescale] for t in self.tracks],
                "fragments": [
                    [
                        f.offset,
                        f.size,
                        [[r.track_id, r.start, r.duration, int(r.keyframe)] for r in f.runs],
                    ]
                    for f in self.fragments
                ],
                "samples": {str(tid): s.table().to_json() for tid, s in self.samples.items()},
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> FragmentIndex:
        try:
            data: dict[str, Any] = json.loads(text)
            if not isinstance(data, dict) or data.get("v") not in (1, _INDEX_VERSION):
                raise MediaFormatError("the fragment index has an unknown layout")
            return cls(
                init_offset=data["init"][0],
                init_size=data["init"][1],
                tracks=tuple(TrackInfo(int(i), str(k), int(s)) for i, k, s in data["tracks"]),
                fragments=[
                    Fragment(o, s, tuple(TrackRun(t, st, d, bool(k)) for t, st, d, k in runs))
                    for o, s, runs in data["fragments"]
                ],
                samples={
                    int(tid): TrackSamples(SampleTable.from_json(table))
                    for tid, table in data.get("samples", {}).items()
                },
            )
        except (ValueError, KeyError, TypeError, IndexError) as e:
            if isinstance(e, MediaFormatError):
                raise
            raise MediaFormatError("the fragment index is damaged") from e


class FragmentScanner:
    """Incremental top-level box parser: ``feed`` it the file's bytes in order."""

    def __init__(self) -> None:
        self.index = FragmentIndex()
        self._offset = 0  # file offset of the first byte not yet consumed
        self._pending = bytearray()  # header or whole parsed box being collected
        self._skip = 0  # bytes of the current unparsed box still to pass over
        self._box_start = 0
        self._kind, self._size = b"", 0
        self._trex: dict[int, tuple[int, int]] = {}
        self._moof: tuple[int, int, list[RunSamples]] | None = None  # offset, size, runs

    @property
    def skippable(self) -> int:
        """Bytes the caller may pass over with ``skip`` instead of feeding them."""
        return self._skip

    @property
    def offset(self) -> int:
        return self._offset

    def resume_at(self, offset: int) -> None:
        """Go on from a box that starts at ``offset``, forgetting any box part-read: after
        a damaged stretch, salvage finds the next ``moof`` and scans on from there."""
        self._offset, self._skip, self._moof = offset, 0, None
        self._pending.clear()

    def skip(self, count: int) -> None:
        count = min(count, self._skip)
        self._skip -= count
        self._offset += count
        if self._skip == 0:
            self._box_done()

    def feed(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            if self._skip:
                step = min(self._skip, len(view))
                view = view[step:]
                self.skip(step)
            else:
                view = self._collect(view)

    def _collect(self, view: memoryview) -> memoryview:
        """Add bytes to the current header/box; act once it is complete."""
        if not self._pending:
            self._box_start = self._offset
        header = box_header(self._pending)
        # Still reading the header: 8 bytes, or 16 when the size field says "64-bit".
        want = (16 if len(self._pending) >= 8 else 8) if header is None else header[0]
        take = min(want - len(self._pending), len(view))
        self._pending += view[:take]
        self._offset += take
        header = box_header(self._pending)
        if header is not None:
            self._header_or_box_read(*header)
        return view[take:]

    def _header_or_box_read(self, size: int, kind: bytes, head: int) -> None:
        self._kind, self._size = kind, size or _TO_END
        if kind not in _PARSED or size == 0:
            # mdat, free, mfra… or "to the end of the file": pass over the body unread.
            self._skip = self._size - len(self._pending)
            self._pending.clear()
            if self._skip == 0:
                self._box_done()
        elif size > _MAX_PARSED_BOX:
            raise MediaFormatError(f"an MP4 {kind!r} box of {size} bytes is too large")
        elif len(self._pending) == size:
            payload = bytes(self._pending[head:])
            self._pending.clear()
            self._box_done(payload)

    def _box_done(self, payload: bytes | None = None) -> None:
        try:
            self._finish(self._kind, self._box_start, self._size, payload)
        except (StopIteration, IndexError, struct.error) as e:
            raise MediaFormatError(f"an MP4 {self._kind!r} box is damaged") from e

    def _finish(self, kind: bytes, start: int, size: int, payload: bytes | None) -> None:
        idx = self.index
        if kind == b"ftyp":
            idx.init_offset = start
        elif kind == b"moov" and payload is not None:
            tracks, self._trex = parse_moov(payload)
            idx.tracks = tuple(tracks)
            idx.init_size = start + size - idx.init_offset
        elif kind == b"moof" and payload is not None:
            self._moof = (start, size, parse_moof(payload, self._trex, start))
        elif kind == b"mdat" and self._moof is not None:
            moof_at, moof_size, runs = self._moof
            if any(r.offset < start or r.offset + r.data_size > start + size for r in runs):
                raise MediaFormatError("a fragment's samples lie outside its mdat box")
            if moof_at + moof_size == start:
                idx.add(Fragment(moof_at, moof_size + size, tuple(summarize(runs))), runs)
            self._moof = None


class IndexingWriter:
    """A write-only pass-through file object that indexes the MP4 written through it."""

    def __init__(self, inner: IO[bytes] | Any) -> None:
        self._inner = inner
        self.scanner = FragmentScanner()

    @property
    def index(self) -> FragmentIndex:
        return self.scanner.index

    def write(self, data: bytes) -> int:
        written = self._inner.write(data)
        self.scanner.feed(data)
        return len(data) if written is None else int(written)

    def flush(self) -> None:
        self._inner.flush()

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


def scan_file(file: RangeSource, chunk: int = 64 * 1024) -> FragmentIndex:
    """Index a readable, seekable MP4 from its start; stops at the first incomplete box."""
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    scanner = FragmentScanner()
    scan_on(file, scanner, size, chunk)
    return scanner.index


def scan_on(file: RangeSource, scanner: FragmentScanner, size: int, chunk: int) -> None:
    """Feed ``scanner`` from ``file``'s position (its ``offset``) up to ``size``."""
    while scanner.offset < size:
        if scanner.skippable:
            step = min(scanner.skippable, size - scanner.offset)
            file.seek(step, 1)
            scanner.skip(step)
            continue
        data = file.read(chunk)
        if not data:
            break
        scanner.feed(data)
