"""A window on a recorded film: its init segment and only the fragments around a time range.

Clips and stills need a few seconds of a film that may be an hour long. The fragment
index says where each one-second fragment lies, so the window is a small virtual MP4
(the recorded ``ftyp``+``moov``, then the chosen fragments byte for byte) read lazily
through the caller's source — in production the decrypting ``age.Reader`` — so only
the chunks of those seconds are ever decrypted, and nothing is written anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from device.errors import ClipRangeError, MediaFormatError
from device.media.fragments import Fragment, FragmentIndex
from device.media.source import RangeSource
from device.media.virtual import Span, VirtualLayout, VirtualMp4, read_exactly

# times within a millisecond of a frame's start count as that frame (phones round times)
FRAME_EPSILON_S = 0.001


@dataclass(frozen=True, slots=True)
class Timeline:
    """The film's video times in seconds: its first frame and the end of its last."""

    start_s: float
    end_s: float

    @classmethod
    def of(cls, index: FragmentIndex) -> Timeline:
        video, runs = index.video, index.video_runs()
        if video is None or not runs:
            raise MediaFormatError("the recording has no video to cut from")
        scale = video.timescale
        return cls(runs[0].start / scale, (runs[-1].start + runs[-1].duration) / scale)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def check_range(index: FragmentIndex, in_s: float, out_s: float, max_s: float) -> Timeline:
    """Refuse an in/out pair that cannot be cut, in words a practitioner can act on."""
    timeline = Timeline.of(index)
    if not (in_s == in_s and out_s == out_s):  # NaN
        raise ClipRangeError("the clip's in and out points are not times")
    if in_s < timeline.start_s - FRAME_EPSILON_S:
        raise ClipRangeError("the clip starts before the film does")
    if out_s <= in_s:
        raise ClipRangeError("the clip's out point is not after its in point")
    if in_s >= timeline.end_s - FRAME_EPSILON_S:
        raise ClipRangeError(
            f"the clip starts after the film ends ({timeline.duration_s:.1f} s long)"
        )
    if out_s > timeline.end_s + FRAME_EPSILON_S:
        raise ClipRangeError(
            f"the clip's out point is after the end of the film ({timeline.end_s:.2f} s)"
        )
    if out_s - in_s > max_s + FRAME_EPSILON_S:
        raise ClipRangeError(
            f"the clip is {out_s - in_s:.1f} s long; a clip may be at most {max_s:.0f} s",
            hint="Choose a shorter moment, or cut it into two clips.",
        )
    return timeline


def open_window(
    index: FragmentIndex, source: RangeSource, start_s: float, end_s: float, *, margin: int = 1
) -> VirtualMp4:
    """A seekable MP4 of the fragments from the keyframe at or before ``start_s`` through
    the one holding ``end_s``, plus ``margin`` fragments either side (audio is interleaved
    up to half a second away from its video)."""
    chosen = _fragments(index, start_s, end_s, margin)
    init = read_exactly(source, index.init_offset, index.init_size)
    spans, at = [], len(init)
    for fragment in chosen:
        spans.append(Span(at, fragment.offset, fragment.size))
        at += fragment.size
    layout = VirtualLayout(
        header=init, init_size=len(init), spans=tuple(spans), size=at, duration_s=0
    )
    return VirtualMp4(layout, source)


def _fragments(index: FragmentIndex, start_s: float, end_s: float, margin: int) -> list[Fragment]:
    video = index.video
    if video is None:
        raise MediaFormatError("the recording has no video to cut from")
    starts: list[tuple[float, bool]] = []
    for fragment in index.fragments:
        run = fragment.run(video.track_id)
        starts.append((run.start / video.timescale, run.keyframe) if run else (-1.0, False))
    first = 0
    for i, (t, key) in enumerate(starts):
        if key and t <= start_s + FRAME_EPSILON_S:
            first = i
    last = first
    for i, (t, _) in enumerate(starts):
        if t < end_s:
            last = max(last, i)
    lo, hi = max(0, first - margin), min(len(starts), last + 1 + margin)
    return index.fragments[lo:hi]
