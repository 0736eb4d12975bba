"""A virtual MP4 for phone playback: a new header in memory, the recorded fragments on demand.

A recording as written (``empty_moov``, one fragment per second) plays, but phones
cannot tell its length or seek without fetching fragment after fragment. The file a
phone is served instead is: the recorded init segment with real durations and an
``mehd``, a global ``sidx`` pointing at every fragment, then the fragments byte for
byte. Only the header (tens of kilobytes for an hour) is built; every read past it is
mapped to the recorded file — in production an ``age.Reader`` decrypting just the
chunks asked for — so no plaintext is ever written anywhere.

``VirtualLayout`` is the immutable plan, built once per film and shared; each request
opens its own ``VirtualMp4`` cursor over its own source. ``hls_playlist`` describes the
same bytes as an HLS playlist for players that prefer one.
"""

from __future__ import annotations

import bisect
import io
from dataclasses import dataclass
from typing import Protocol

from device.errors import MediaFormatError
from device.media.boxes import box_header
from device.media.fragments import FragmentIndex
from device.media.sidx import (
    Subsegment,
    box,
    patch_moov,
    reference_track,
    sidx_box,
    subsegments,
    track_spans,
)


class RangeSource(Protocol):
    """Where the recorded MP4's bytes come from: BytesIO, an open file, ``age.Reader``."""

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def readinto(self, buffer: bytearray | memoryview, /) -> int | None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Span:
    """Bytes copied unchanged: ``size`` bytes at ``source`` appear at ``virtual``."""

    virtual: int
    source: int
    size: int


@dataclass(frozen=True, slots=True)
class Segment:
    """One ``sidx`` reference / HLS segment: where it lies in the virtual file, how long."""

    offset: int
    size: int
    duration_s: float
    keyframe: bool


@dataclass(frozen=True, slots=True)
class VirtualLayout:
    """What the virtual MP4 holds: the header bytes, then spans of the recorded file."""

    header: bytes
    init_size: int  # the patched ftyp + moov at the start of ``header``
    spans: tuple[Span, ...]
    segments: tuple[Segment, ...]
    size: int
    duration_s: float

    @classmethod
    def build(cls, index: FragmentIndex, source: RangeSource) -> VirtualLayout:
        """Plan the virtual file of a recording; reads only its init segment from ``source``."""
        init = read_exactly(source, index.init_offset, index.init_size)
        return cls.from_init(index, init)

    @classmethod
    def from_init(cls, index: FragmentIndex, init: bytes) -> VirtualLayout:
        """Plan from the init segment's bytes (ftyp + moov, as recorded)."""
        if not index.fragments:
            raise MediaFormatError("the recording has no complete fragment to play")
        new_init = _patched_init(init, index)
        track = reference_track(index)
        parts = subsegments(index.fragments, track)
        first = next((r for f in index.fragments if (r := f.run(track)) is not None), None)
        scale = next(t.timescale for t in index.tracks if t.track_id == track)
        header = new_init + sidx_box(track, scale, first.start if first else 0, parts)
        spans = _spans(index, len(header))
        return cls(
            header=header,
            init_size=len(new_init),
            spans=spans,
            segments=_segments(parts, len(header), scale),
            size=spans[-1].virtual + spans[-1].size,
            duration_s=_duration_s(index),
        )


def _patched_init(init: bytes, index: FragmentIndex) -> bytes:
    """ftyp and any other top-level boxes as recorded; the moov rewritten."""
    out, at = bytearray(), 0
    while at < len(init):
        header = box_header(init, at)
        if header is None or header[0] == 0 or at + header[0] > len(init):
            raise MediaFormatError("the recording's init segment is damaged")
        size, kind, head = header
        if kind == b"moov":
            out += box(kind, patch_moov(init[at + head : at + size], index))
        else:
            out += init[at : at + size]
        at += size
    return bytes(out)


def _spans(index: FragmentIndex, start: int) -> tuple[Span, ...]:
    """One span per run of fragments that lie back to back in the recorded file."""
    spans: list[Span] = []
    at = start
    for fragment in index.fragments:
        last = spans[-1] if spans else None
        if last is not None and last.source + last.size == fragment.offset:
            spans[-1] = Span(last.virtual, last.source, last.size + fragment.size)
        else:
            spans.append(Span(at, fragment.offset, fragment.size))
        at += fragment.size
    return tuple(spans)


def _segments(parts: list[Subsegment], start: int, timescale: int) -> tuple[Segment, ...]:
    segments, at = [], start
    for part in parts:
        segments.append(Segment(at, part.size, part.duration / timescale, part.keyframe))
        at += part.size
    return tuple(segments)


def _duration_s(index: FragmentIndex) -> float:
    """The film's length as the moov now states it: its longest track."""
    scales = {t.track_id: t.timescale for t in index.tracks}
    spans = track_spans(index)
    return max((span / scales[tid] for tid, span in spans.items() if scales[tid]), default=0.0)


class VirtualMp4(io.RawIOBase):
    """A seekable, read-only file over a ``VirtualLayout`` and the recorded file's source.

    Not thread safe (the source has one position): open one per request. With
    ``close_source=True`` closing it closes the source too (a response that owns both).
    """

    def __init__(
        self, layout: VirtualLayout, source: RangeSource, *, close_source: bool = False
    ) -> None:
        super().__init__()
        self.layout = layout
        self._source = source
        self._close_source = close_source
        self._starts = [span.virtual for span in layout.spans]
        self._pos = 0

    @property
    def size(self) -> int:
        return self.layout.size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check_open()
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("cannot seek before the start of the file")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        self._check_open()
        view = memoryview(buffer).cast("B")
        got = 0
        while got < len(view) and self._pos < self.size:
            n = self._read_some(view[got:])
            got += n
            self._pos += n
        return got

    def close(self) -> None:
        if not self.closed and self._close_source:
            self._source.close()
        super().close()

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on a closed virtual MP4")

    def _read_some(self, view: memoryview) -> int:
        """Fill the start of ``view`` from the header or from the one span at the position."""
        header = self.layout.header
        if self._pos < len(header):
            n = min(len(view), len(header) - self._pos)
            view[:n] = header[self._pos : self._pos + n]
            return n
        span = self.layout.spans[bisect.bisect_right(self._starts, self._pos) - 1]
        into = self._pos - span.virtual
        n = min(len(view), span.size - into)
        self._source.seek(span.source + into)
        got = self._source.readinto(view[:n]) or 0
        if got == 0:
            raise MediaFormatError("the recording ends before its fragment index says it does")
        return got


def open_virtual_mp4(
    index: FragmentIndex, source: RangeSource, *, close_source: bool = False
) -> VirtualMp4:
    """The phone-playable view of a recording: plan its layout and open a reader over it."""
    return VirtualMp4(VirtualLayout.build(index, source), source, close_source=close_source)


def hls_playlist(layout: VirtualLayout, uri: str) -> str:
    """An HLS (version 7) playlist of byte ranges over the virtual MP4 served at ``uri``."""
    # EXTINF rounded to the nearest second must not exceed the target duration (RFC 8216).
    target = max((round(s.duration_s) for s in layout.segments), default=1)
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", f"#EXT-X-TARGETDURATION:{max(target, 1)}"]
    lines.append("#EXT-X-PLAYLIST-TYPE:VOD")
    if all(s.keyframe for s in layout.segments):
        lines.append("#EXT-X-INDEPENDENT-SEGMENTS")
    lines.append(f'#EXT-X-MAP:URI="{uri}",BYTERANGE="{layout.init_size}@0"')
    for segment in layout.segments:
        lines.append(f"#EXTINF:{segment.duration_s:.6f},")
        lines.append(f"#EXT-X-BYTERANGE:{segment.size}@{segment.offset}")
        lines.append(uri)
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def read_exactly(source: RangeSource, offset: int, size: int) -> bytes:
    """``size`` bytes at ``offset``; a film that ends sooner is damaged."""
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    source.seek(offset)
    while got < size:
        n = source.readinto(view[got:]) or 0
        if n == 0:
            raise MediaFormatError("the recording ends inside its header")
        got += n
    return bytes(buffer)
