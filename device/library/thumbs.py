"""A recording's timeline thumbnails, kept as one encrypted file: ``<id>.thumbs.age``.

The plaintext inside the age file is a small container, documented here so the office
can read it with any language::

    b"VIGTHUMB"  magic (8 bytes)
    version      u8 = 1
    count        u32, big-endian
    count times: t_ms u32 (film time in milliseconds), size u32, then ``size`` bytes of JPEG

Written atomically (temp file of ciphertext, fsync, rename), like every derived file.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Sequence

from device import age
from device.errors import MediaFormatError
from device.library.atomic import atomic_write
from device.library.damaged import DAMAGE, set_aside
from device.library.layout import DataDir
from device.media.thumbnails import Thumbnail

MAGIC = b"VIGTHUMB"
VERSION = 1
KIND = "thumbs"
_HEAD = struct.Struct(">8sBI")
_ENTRY = struct.Struct(">II")


def pack_thumbnails(thumbs: Sequence[Thumbnail]) -> bytes:
    parts = [_HEAD.pack(MAGIC, VERSION, len(thumbs))]
    for thumb in thumbs:
        parts.append(_ENTRY.pack(max(0, round(thumb.t_s * 1000)), len(thumb.jpeg)))
        parts.append(thumb.jpeg)
    return b"".join(parts)


def unpack_thumbnails(data: bytes) -> list[Thumbnail]:
    try:
        magic, version, count = _HEAD.unpack_from(data, 0)
        if magic != MAGIC or version != VERSION:
            raise MediaFormatError("the thumbnails file has an unknown layout")
        thumbs, at = [], _HEAD.size
        for _ in range(count):
            t_ms, size = _ENTRY.unpack_from(data, at)
            at += _ENTRY.size
            if at + size > len(data):
                raise MediaFormatError("the thumbnails file is cut short")
            thumbs.append(Thumbnail(t_ms / 1000, data[at : at + size]))
            at += size
    except struct.error as e:
        raise MediaFormatError("the thumbnails file is damaged") from e
    return thumbs


def save_thumbnails(
    data: DataDir, rec_id: str, thumbs: Sequence[Thumbnail], recipients: Sequence[age.Recipient]
) -> None:
    """Encrypt and store the thumbnails, replacing any made before."""
    payload = age.encrypt_bytes(pack_thumbnails(thumbs), recipients)
    atomic_write(data.derived(rec_id, KIND), payload)


def load_thumbnails(
    data: DataDir, rec_id: str, identities: Sequence[age.Identity]
) -> list[Thumbnail] | None:
    """The stored thumbnails, or None when they have not been made yet (or were damaged:
    the damaged file is then set aside and the thumbnailer makes them again)."""
    path = data.derived(rec_id, KIND)
    try:
        ciphertext = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return unpack_thumbnails(age.decrypt_bytes(ciphertext, identities))
    except DAMAGE:  # set aside and made again, like a strip never made (each fails alone)
        with contextlib.suppress(FileNotFoundError):
            set_aside(path)
        return None
