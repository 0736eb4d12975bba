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

__all__ = [
    "Fragment",
    "FragmentIndex",
    "FragmentScanner",
    "IndexingWriter",
    "Mp4Muxer",
    "TrackInfo",
    "TrackRun",
    "scan_file",
]
