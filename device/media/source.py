"""What a film's bytes are read from: one Protocol for every reader of a seekable file.

An open file, ``io.BytesIO``, ``device.age.Reader`` (decrypting only what is read) and
``device.media.virtual.VirtualMp4`` all fit it. The fragment scanner, the virtual MP4,
clips, stills and the page's Range answers (``web.common.ranges``) take it.
"""

from __future__ import annotations

from typing import Protocol


class RangeSource(Protocol):
    """A readable, seekable binary file."""

    def read(self, size: int = -1, /) -> bytes | None: ...

    def readinto(self, buffer: bytearray | memoryview, /) -> int | None: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def tell(self) -> int: ...

    def seekable(self) -> bool: ...

    def close(self) -> None: ...
