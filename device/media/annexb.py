"""Annex B H.264 helpers: split an access unit into NAL units and pick out SPS/PPS.

Both the Pi's encoder and the synthetic one emit Annex B (start codes) with SPS/PPS in
front of every keyframe. The MP4 muxer needs those parameter sets once, up front, to write
the ``avcC`` box; FFmpeg converts Annex B extradata to ``avcC`` itself.
"""

from __future__ import annotations

from collections.abc import Iterator

NAL_SPS = 7
NAL_PPS = 8
NAL_IDR = 5


def split_nal_units(access_unit: bytes) -> Iterator[bytes]:
    """Yield each NAL unit's payload (without its start code), in order."""
    starts: list[tuple[int, int]] = []  # (start code position, payload position)
    i = access_unit.find(b"\x00\x00\x01")
    while i >= 0:
        # A 4-byte start code is a 3-byte one preceded by a zero byte.
        code_at = i - 1 if i > 0 and access_unit[i - 1] == 0 else i
        starts.append((code_at, i + 3))
        i = access_unit.find(b"\x00\x00\x01", i + 3)
    for n, (_, payload_at) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(access_unit)
        if end > payload_at:
            yield access_unit[payload_at:end]


def nal_type(nal: bytes) -> int:
    return nal[0] & 0x1F


def parameter_sets(access_unit: bytes) -> bytes | None:
    """The access unit's SPS and PPS as Annex B bytes, or None if either is missing."""
    sps = [n for n in split_nal_units(access_unit) if nal_type(n) == NAL_SPS]
    pps = [n for n in split_nal_units(access_unit) if nal_type(n) == NAL_PPS]
    if not sps or not pps:
        return None
    return b"".join(b"\x00\x00\x00\x01" + n for n in (sps[0], pps[0]))
