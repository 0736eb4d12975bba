"""Passphrase-wrapped identity files and the rules for a good passphrase.

The kit's secret key is kept only as an age file encrypted to a passphrase (scrypt), so
``age -d kit-identity.age`` opens it too. Its plaintext is an ordinary identity file.
"""

from __future__ import annotations

import io
import os

from device.errors import KeyFormatError, WeakPassphrase, WrongPassphrase

from .decrypt import decrypt
from .keyfiles import is_encrypted, parse_identities
from .scrypt import ScryptIdentity, ScryptRecipient
from .writer import Writer
from .x25519 import X25519Identity

# scrypt with r=8 needs 128 * r * N bytes: logN 16 is 64 MiB. That fits beside the
# recording process on a Pi Zero 2 W (about 256 MB usable) and takes about a second on
# a Raspberry Pi 4 (0.19 s on a 2-core x86 server, which is several times faster per
# core and in memory bandwidth). age's own default, 18, would need 256 MiB: too much.
DEFAULT_WORK_FACTOR = 16
# Read at most logN 17 (128 MiB, about 2 s on a Pi 4): headroom for a stronger file made
# elsewhere, but nothing that would push a small kit out of memory (age caps at 22: 4 GiB).
MAX_WORK_FACTOR = 17
MIN_LENGTH = 12

_COMMON = frozenset(
    {
        "password",
        "passphrase",
        "letmein",
        "qwerty",
        "iloveyou",
        "welcome",
        "admin",
        "monkey",
        "dragon",
        "secret",
        "vigkit",
        "correct horse battery staple",
    }
)


def check_passphrase(passphrase: str) -> None:
    """Refuse a weak passphrase with a :class:`WeakPassphrase` saying why."""
    reason = _weakness(passphrase)
    if reason:
        raise WeakPassphrase(f"the passphrase is too weak: {reason}")


def _weakness(passphrase: str) -> str | None:
    text = passphrase.strip().lower()
    squashed = "".join(ch for ch in text if ch.isalnum())
    if len(passphrase) < MIN_LENGTH:
        return f"it has {len(passphrase)} characters and at least {MIN_LENGTH} are needed"
    if len(set(squashed)) <= 1:
        return "it repeats a single character"
    if text in _COMMON or squashed.rstrip("0123456789") in _COMMON:
        return "it is a well-known password that is tried first"
    if squashed.isdigit():
        return "it is only digits"
    if len(set(squashed)) < 5:
        return "it uses fewer than five different letters or digits"
    if squashed in "abcdefghijklmnopqrstuvwxyz" or squashed in "0123456789" * 3:
        return "it is a run of consecutive letters or digits"
    return None


def identity_file_text(identity: X25519Identity) -> str:
    """An identity file as age-keygen writes it."""
    from datetime import UTC, datetime  # only here: decrypting needs no clock

    created = datetime.now(UTC).replace(microsecond=0).isoformat()
    return f"# created: {created}\n# public key: {identity.recipient()}\n{identity}\n"


def wrap_identity(
    identity: X25519Identity, passphrase: str, work_factor: int = DEFAULT_WORK_FACTOR
) -> bytes:
    """An age file, encrypted to ``passphrase``, whose plaintext is the identity file."""
    check_passphrase(passphrase)
    out = io.BytesIO()
    with Writer(out, [ScryptRecipient(passphrase, work_factor)], close_output=False) as writer:
        writer.write(identity_file_text(identity).encode())
    return out.getvalue()


def unwrap_identities(
    data: bytes, passphrase: str, max_work_factor: int = MAX_WORK_FACTOR
) -> list[X25519Identity]:
    """Every identity inside a passphrase-encrypted identity file."""
    plain = io.BytesIO()
    decrypt(io.BytesIO(data), [ScryptIdentity(passphrase, max_work_factor)], plain)
    return parse_identities(plain.getvalue().decode("utf-8", errors="replace"))


def unwrap_identity(
    data: bytes, passphrase: str, max_work_factor: int = MAX_WORK_FACTOR
) -> X25519Identity:
    """The one identity inside a file made by :func:`wrap_identity`."""
    found = unwrap_identities(data, passphrase, max_work_factor)
    if len(found) != 1:
        raise KeyFormatError(f"the key file holds {len(found)} secret keys where one was expected")
    return found[0]


def load_identities(
    path: str | os.PathLike[str],
    passphrase: str | None = None,
    *,
    max_work_factor: int | None = None,
) -> list[X25519Identity]:
    """The identities in the file at ``path``, unlocking it with ``passphrase`` if needed.

    (``open`` and ``os.path``, not pathlib: the office's decrypt starts faster without it.)
    """
    with open(path, "rb") as f:
        data = f.read()
    if not is_encrypted(data):
        return parse_identities(data.decode("utf-8", errors="replace"))
    if passphrase is None:
        name = os.path.basename(path)
        raise WrongPassphrase(f"{name} is protected by a passphrase and none was given")
    limit = MAX_WORK_FACTOR if max_work_factor is None else max_work_factor
    return unwrap_identities(data, passphrase, max_work_factor=limit)
