"""Media: frames and sound blocks, the fragmented-MP4 muxer, the fragment index that
playback builds on, the progressive MP4 the phone plays, clips, stills, thumbnails and
JPEG encoding."""

from __future__ import annotations

from device.media.boxes import TrackInfo, TrackRun
from device.media.clips import MAX_CLIP_S, ClipCut, cut_clip
from device.media.fragments import (
    Fragment,
    FragmentIndex,
    FragmentScanner,
    IndexingWriter,
    scan_file,
)
from device.media.muxer import Mp4Muxer
from device.media.progressive import open_virtual_mp4
from device.media.source import RangeSource
from device.media.stills import Still, grab_still
from device.media.thumbnails import Thumbnail, make_thumbnails
from device.media.virtual import VirtualLayout, VirtualMp4

__all__ = [
    "MAX_CLIP_S",
    "ClipCut",
    "Fragment",
    "FragmentIndex",
    "FragmentScanner",
    "IndexingWriter",
    "Mp4Muxer",
    "RangeSource",
    "Still",
    "Thumbnail",
    "TrackInfo",
    "TrackRun",
    "VirtualLayout",
    "VirtualMp4",
    "cut_clip",
    "grab_still",
    "make_thumbnails",
    "open_virtual_mp4",
    "scan_file",
]
