"""Passphrase recipients and identities (the age ``scrypt`` stanza)."""

from __future__ import annotations

import os
import re

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from device.errors import HeaderError, WorkFactorTooHigh

from ._crypto import unwrap_key, wrap_key
from .format import Stanza, b64decode, b64encode

_LABEL = b"age-encryption.org/v1/scrypt"
_SALT_SIZE = 16
_LOG_N = re.compile(r"[1-9][0-9]{0,2}")
AGE_MAX_WORK_FACTOR = 22  # what age itself accepts when reading


def _derive(passphrase: str, salt: bytes, log_n: int) -> bytes:
    kdf = Scrypt(salt=_LABEL + salt, length=32, n=1 << log_n, r=8, p=1)
    return kdf.derive(passphrase.encode("utf-8"))


class ScryptRecipient:
    """Encrypt to a passphrase. age allows no other recipient in the same file."""

    def __init__(self, passphrase: str, work_factor: int) -> None:
        if not 1 <= work_factor <= 30:
            raise ValueError("the scrypt work factor (log2 N) must be between 1 and 30")
        self._passphrase = passphrase
        self.work_factor = work_factor

    def __repr__(self) -> str:
        return f"ScryptRecipient(work_factor={self.work_factor})"

    def wrap(self, file_key: bytes) -> list[Stanza]:
        salt = os.urandom(_SALT_SIZE)
        key = _derive(self._passphrase, salt, self.work_factor)
        args = (b64encode(salt).decode(), str(self.work_factor))
        return [Stanza("scrypt", args, wrap_key(key, file_key))]


class ScryptIdentity:
    """Open a passphrase-encrypted file, refusing work factors above ``max_work_factor``."""

    def __init__(self, passphrase: str, max_work_factor: int = AGE_MAX_WORK_FACTOR) -> None:
        self._passphrase = passphrase
        self.max_work_factor = max_work_factor

    def __repr__(self) -> str:
        return f"ScryptIdentity(max_work_factor={self.max_work_factor})"

    def unwrap(self, stanzas: tuple[Stanza, ...]) -> bytes | None:
        for stanza in stanzas:
            if stanza.type == "scrypt":
                file_key = self._unwrap_one(stanza)
                if file_key is not None:
                    return file_key
        return None

    def _unwrap_one(self, stanza: Stanza) -> bytes | None:
        if len(stanza.args) != 2:
            raise HeaderError("a scrypt stanza must have exactly two arguments")
        try:
            salt = b64decode(stanza.args[0].encode())
        except ValueError as e:
            raise HeaderError("a scrypt stanza's salt is not canonical base64") from e
        if len(salt) != _SALT_SIZE:
            raise HeaderError("a scrypt stanza's salt is not 16 bytes")
        if not _LOG_N.fullmatch(stanza.args[1]):
            raise HeaderError("a scrypt stanza's work factor is not a plain decimal number")
        log_n = int(stanza.args[1])
        if log_n > self.max_work_factor:
            raise WorkFactorTooHigh(
                f"the passphrase work factor is {log_n}; at most {self.max_work_factor} is accepted"
            )
        return unwrap_key(_derive(self._passphrase, salt, log_n), stanza.body, "scrypt")
