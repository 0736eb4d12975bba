"""The age v1 header as text: stanzas, canonical base64, parsing and writing.

No keys here (like age's ``internal/format``): this module only knows the grammar.
Every rule the C2SP test vectors check is enforced; a broken header raises
:class:`~device.errors.HeaderError` saying which line is wrong.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import NamedTuple

from device.errors import HeaderError

INTRO = b"age-encryption.org/v1\n"
MAC_PREFIX = b"---"
STANZA_PREFIX = b"->"
COLUMNS = 64  # base64 characters per full body line
BYTES_PER_LINE = COLUMNS // 4 * 3
MAX_HEADER = 1 << 20  # refuse absurd headers rather than read without end

_B64_CHARS = re.compile(rb"[A-Za-z0-9+/]*")
_ARG = re.compile(rb"[\x21-\x7e]+")


def b64encode(data: bytes) -> bytes:
    """Standard base64 without padding, as age writes it."""
    return base64.b64encode(data).rstrip(b"=")


def b64decode(text: bytes) -> bytes:
    """Decode unpadded base64, refusing padding, stray characters and non-canonical ends."""
    if not _B64_CHARS.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64")
    try:
        data = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except binascii.Error as e:
        raise ValueError("not unpadded base64") from e
    if b64encode(data) != text:
        raise ValueError("base64 is not canonical")
    return data


# NamedTuples, not dataclasses: importing dataclasses (and inspect with it) was about a
# tenth of what ``vigkit office decrypt`` imports; typing is loaded anyway.
class Stanza(NamedTuple):
    """One recipient stanza: a type, string arguments and a binary body."""

    type: str
    args: tuple[str, ...] = ()
    body: bytes = b""

    def encode(self) -> bytes:
        """The stanza's lines, body wrapped at 64 columns, ending with a short line."""
        words = b" ".join(a.encode("ascii") for a in (self.type, *self.args))
        body = b64encode(self.body)
        lines = [body[i : i + COLUMNS] for i in range(0, len(body) + 1, COLUMNS)]
        return STANZA_PREFIX + b" " + words + b"\n" + b"".join(line + b"\n" for line in lines)


class Header(NamedTuple):
    """A parsed header: its stanzas, its MAC and the exact bytes the MAC covers."""

    stanzas: tuple[Stanza, ...]
    mac: bytes
    signed: bytes  # from the intro up to and including "---"

    def encode(self) -> bytes:
        return self.signed + b" " + b64encode(self.mac) + b"\n"


def encode_unsigned(stanzas: tuple[Stanza, ...] | list[Stanza]) -> bytes:
    """The header bytes the MAC covers: intro, stanzas and the bare ``---``."""
    return INTRO + b"".join(s.encode() for s in stanzas) + MAC_PREFIX


def encode_header(stanzas: tuple[Stanza, ...] | list[Stanza], mac: bytes) -> bytes:
    return encode_unsigned(stanzas) + b" " + b64encode(mac) + b"\n"


def parse_header(next_line: Callable[[], bytes]) -> Header:
    """Parse a header from ``next_line``, which returns one line with its ``\\n``.

    ``next_line`` raises :class:`HeaderError` itself when the input ends mid-line.
    """
    intro = next_line()
    if intro != INTRO:
        if intro.startswith(b"age-encryption.org/"):
            raise HeaderError(f"unsupported age version {intro.strip()!r}; only v1 is known")
        raise HeaderError("this is not an age file (the first line is wrong)")
    signed = [intro]
    stanzas: list[Stanza] = []
    while True:
        line = next_line()
        if line.startswith(MAC_PREFIX):
            signed.append(MAC_PREFIX)
            return Header(tuple(stanzas), _parse_mac(line), b"".join(signed))
        signed.append(line)
        stanza = _parse_stanza_line(line, len(stanzas))
        body = _parse_body(next_line, signed, len(stanzas))
        stanzas.append(Stanza(stanza[0], tuple(stanza[1:]), body))


def _parse_mac(line: bytes) -> bytes:
    parts = line[:-1].split(b" ")
    if parts[0] != MAC_PREFIX or len(parts) != 2:
        raise HeaderError("the header's closing MAC line is malformed")
    try:
        mac = b64decode(parts[1])
    except ValueError as e:
        raise HeaderError("the header MAC is not canonical base64") from e
    if len(mac) != 32:
        raise HeaderError("the header MAC has the wrong length")
    return mac


def _parse_stanza_line(line: bytes, index: int) -> list[str]:
    parts = line[:-1].split(b" ")
    if parts[0] != STANZA_PREFIX:
        raise HeaderError(f"stanza {index} does not start with '-> '")
    args = parts[1:]
    if not args or not all(_ARG.fullmatch(a) for a in args):
        raise HeaderError(f"stanza {index} has a missing, empty or invalid argument")
    return [a.decode("ascii") for a in args]


def _parse_body(next_line: Callable[[], bytes], signed: list[bytes], index: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        line = next_line()
        signed.append(line)
        text = line[:-1]
        if len(text) > COLUMNS:
            raise HeaderError(f"a body line of stanza {index} is longer than 64 columns")
        try:
            chunks.append(b64decode(text))
        except ValueError as e:
            raise HeaderError(
                f"a body line of stanza {index} is not canonical base64 "
                "(or the stanza does not end with a short line)"
            ) from e
        if len(text) < COLUMNS:
            return b"".join(chunks)
