"""Recipients files and identity files, read as age reads them.

One key per line; lines starting with ``#`` and blank lines are ignored. An identity
file may itself be a passphrase-encrypted age file holding such lines (age does the same);
``passphrase.load_identities`` reads either kind from disk.
"""

from __future__ import annotations

from device.errors import KeyFormatError

from ._crypto import Recipient
from .armor import looks_armored
from .format import INTRO
from .x25519 import X25519Identity, X25519Recipient


def _key_lines(text: str) -> list[tuple[int, str]]:
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            lines.append((number, line))
    return lines


def _parse_line(number: int, line: str, kind: str) -> X25519Recipient | X25519Identity:
    try:
        if kind == "recipient":
            return X25519Recipient.parse(line)
        return X25519Identity.parse(line)
    except KeyFormatError as e:
        raise KeyFormatError(f"line {number}: {_why(line, kind, e)}") from e


def _why(line: str, kind: str, error: KeyFormatError) -> str:
    lowered = line.lower()
    if lowered.startswith(("ssh-", "ecdsa-")):
        return "SSH keys are not supported; use an age1… key"
    if lowered.startswith(("age1pq", "age-secret-key-pq-")) or "1pq" in lowered[:20]:
        return "post-quantum age keys are not supported; use an X25519 key"
    if kind == "recipient" and lowered.startswith("age-secret-key-"):
        return "this is a secret key; a recipients file holds only public age1… keys"
    return error.message


def parse_recipients(text: str) -> list[Recipient]:
    """Every ``age1…`` recipient in a recipients file's text."""
    found = [_parse_line(n, line, "recipient") for n, line in _key_lines(text)]
    if not found:
        raise KeyFormatError("the recipients file holds no keys")
    return [r for r in found if isinstance(r, X25519Recipient)]


def parse_identities(text: str) -> list[X25519Identity]:
    """Every ``AGE-SECRET-KEY-1…`` identity in an identity file's text."""
    found = [_parse_line(n, line, "identity") for n, line in _key_lines(text)]
    if not found:
        raise KeyFormatError("the identity file holds no secret keys")
    return [i for i in found if isinstance(i, X25519Identity)]


def is_encrypted(data: bytes) -> bool:
    """True when ``data`` is an age file (binary or armored) rather than key text."""
    return data.startswith(INTRO[:-3]) or looks_armored(data[:2048])
