"""Media: the fragmented-MP4 muxer and the fragment index that playback builds on."""

from __future__ import annotations

from device.media.boxes import TrackInfo, TrackRun
from device.media.fragments import (
    Fragment,
    FragmentIndex,
    FragmentScanner,
    IndexingWriter,
    scan_file,
)
from device.media.muxer import Mp4Muxer
from device.media.virtual import (
    RangeSource,
    Segment,
    VirtualLayout,
    VirtualMp4,
    hls_playlist,
    open_virtual_mp4,
)

__all__ = [
    "Fragment",
    "FragmentIndex",
    "FragmentScanner",
    "IndexingWriter",
    "Mp4Muxer",
    "RangeSource",
    "Segment",
    "TrackInfo",
    "TrackRun",
    "VirtualLayout",
    "VirtualMp4",
    "hls_playlist",
    "open_virtual_mp4",
    "scan_file",
]
