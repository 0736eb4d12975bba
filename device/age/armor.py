"""ASCII armor (strict PEM-like text) around an age file, read and written.

Reading follows the age spec strictly: the BEGIN line exactly, then padded base64 lines
of exactly 64 columns but the last (1–64 columns), then the END line; LF or CRLF line
ends; whitespace allowed only before BEGIN and after END. Armored files are decoded in
memory: they are for keys and short texts, never recordings.
"""

from __future__ import annotations

import base64
import binascii
import re

from device.errors import ArmorError

from ._io import Sink, write_all

BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
END = b"-----END AGE ENCRYPTED FILE-----"
_COLUMNS = 64
_LINE_BYTES = 48
_MAX_WHITESPACE = 1024
_B64_LINE = re.compile(rb"[A-Za-z0-9+/]*={0,2}")
_WHITESPACE = b" \t\r\n\v\f"


def looks_armored(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file) starts, after whitespace, with BEGIN."""
    stripped = head.lstrip(_WHITESPACE)
    return bool(stripped) and BEGIN.startswith(stripped[: len(BEGIN)])


def dearmor(text: bytes) -> bytes:
    """The binary age file inside armored ``text``."""
    start = len(text) - len(text.lstrip(_WHITESPACE))
    body = text.rstrip(_WHITESPACE)
    if start > _MAX_WHITESPACE or len(text) - len(body) > _MAX_WHITESPACE:
        raise ArmorError("too much whitespace around the armored file")
    leading, trailing = text[:start], text[len(body) :]
    if leading and not leading.endswith(b"\n"):
        raise ArmorError("the BEGIN line does not start at the beginning of a line")
    if trailing and not trailing.lstrip(b"\r").startswith(b"\n"):
        raise ArmorError("the END line is followed by spaces")
    lines = body[start:].split(b"\n")
    lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
    if not lines or lines[0] != BEGIN:
        raise ArmorError("the armored file does not start with the BEGIN AGE ENCRYPTED FILE line")
    if len(lines) < 2 or lines[-1] != END:
        raise ArmorError("the armored file does not end with the END AGE ENCRYPTED FILE line")
    return b"".join(_decode_line(line, i, len(lines) - 2) for i, line in enumerate(lines[1:-1]))


def _decode_line(line: bytes, index: int, count: int) -> bytes:
    last = index == count - 1
    if not line or len(line) > _COLUMNS or (not last and len(line) != _COLUMNS):
        raise ArmorError(f"armor line {index + 2} has the wrong length")
    if not _B64_LINE.fullmatch(line) or (not last and b"=" in line):
        raise ArmorError(f"armor line {index + 2} has a character that is not base64")
    try:
        data = base64.b64decode(line, validate=True)
    except binascii.Error as e:
        raise ArmorError(f"armor line {index + 2} is not valid padded base64") from e
    if base64.b64encode(data) != line:
        raise ArmorError(f"armor line {index + 2} is not canonical base64")
    return data


class ArmorWriter:
    """Encode written bytes as armor lines on ``out``; ``close`` writes the END line."""

    def __init__(self, out: Sink) -> None:
        self._out = out
        self._pending = bytearray()
        write_all(out, BEGIN + b"\n")

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._pending += data
        whole = len(self._pending) - len(self._pending) % _LINE_BYTES
        if whole:
            self._emit(bytes(self._pending[:whole]))
            del self._pending[:whole]
        return len(data)

    def _emit(self, data: bytes) -> None:
        encoded = base64.b64encode(data)
        lines = b"".join(
            encoded[i : i + _COLUMNS] + b"\n" for i in range(0, len(encoded), _COLUMNS)
        )
        write_all(self._out, lines)

    def finish(self) -> None:
        """Write the last partial line and the END line."""
        if self._pending:
            self._emit(bytes(self._pending))
            self._pending.clear()
        write_all(self._out, END + b"\n")
