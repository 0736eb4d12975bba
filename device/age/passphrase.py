"""Passphrase-wrapped identity files and the rules for a good passphrase.

The kit's secret key is kept only as an age file encrypted to a passphrase (scrypt), so
``age -d kit-identity.age`` opens it too. Its plaintext is an ordinary identity file.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass

from device.errors import KeyFormatError, WrongPassphrase

from ._io import read_header
from .decrypt import decrypt
from .keyfiles import is_encrypted, parse_identities
from .scrypt import ScryptIdentity, ScryptRecipient
from .strength import check_passphrase
from .writer import Writer
from .x25519 import X25519Identity

# scrypt with r=8 needs 128 * r * N bytes: logN 16 is 64 MiB, 17 is 128 MiB. The kit
# chooses per board (device.hardware.board: 17 on a Pi 4/5, 16 on a Zero 2 W, whose
# 512 MB the recorder shares); this default is the smaller, safe anywhere.
DEFAULT_WORK_FACTOR = 16
# Read at most logN 18 (256 MiB): headroom above a Pi 4's 17 for a file made elsewhere,
# but nothing that would push a kit out of memory (age caps at 22: 4 GiB). A Zero 2 W
# passes its own lower cap (device.hardware.board.reading_cap).
MAX_WORK_FACTOR = 18


# The recipients a kit may encrypt to, pinned inside its passphrase-wrapped identity file
# as comment lines, which age and age-keygen ignore: ``age -d`` still gives a key file.
PIN_PREFIX = "# recipient: "


@dataclass(frozen=True)
class KitKey:
    """What a kit's identity file holds once opened."""

    identity: X25519Identity
    pinned: tuple[str, ...] | None  # None: made before recipients were pinned
    work_factor: int


def identity_file_text(identity: X25519Identity, pinned: Sequence[str] = ()) -> str:
    """An identity file as age-keygen writes it, with ``pinned`` recipients as comments."""
    from datetime import UTC, datetime  # only here: decrypting needs no clock

    created = datetime.now(UTC).replace(microsecond=0).isoformat()
    pins = "".join(f"{PIN_PREFIX}{r}\n" for r in pinned)
    return f"# created: {created}\n# public key: {identity.recipient()}\n{pins}{identity}\n"


def wrap_identity(
    identity: X25519Identity,
    passphrase: str,
    work_factor: int = DEFAULT_WORK_FACTOR,
    *,
    pinned: Sequence[str] = (),
    check_strength: bool = True,
) -> bytes:
    """An age file, encrypted to ``passphrase``, whose plaintext is the identity file.
    ``check_strength=False`` only to re-wrap with a passphrase already in use."""
    if check_strength:
        check_passphrase(passphrase)
    out = io.BytesIO()
    with Writer(out, [ScryptRecipient(passphrase, work_factor)], close_output=False) as writer:
        writer.write(identity_file_text(identity, pinned).encode())
    return out.getvalue()


def unwrap_kit_key(data: bytes, passphrase: str, max_work_factor: int = MAX_WORK_FACTOR) -> KitKey:
    """The kit's identity, its pinned recipients and the file's scrypt work factor."""
    plain = io.BytesIO()
    decrypt(io.BytesIO(data), [ScryptIdentity(passphrase, max_work_factor)], plain)
    text = plain.getvalue().decode("utf-8", errors="replace")
    found = parse_identities(text)
    if len(found) != 1:
        raise KeyFormatError(f"the key file holds {len(found)} secret keys where one was expected")
    lines = [line.strip() for line in text.splitlines()]
    pins = tuple(line[len(PIN_PREFIX) :].strip() for line in lines if line.startswith(PIN_PREFIX))
    header, _ = read_header(io.BytesIO(data))
    return KitKey(found[0], pins or None, int(header.stanzas[0].args[1]))


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
