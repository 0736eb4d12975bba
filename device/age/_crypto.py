"""The primitives age v1 builds on: HKDF-SHA256, ChaCha20-Poly1305, the header MAC.

Everything is pyca's: the standard library's ``hmac`` is not imported, because it loads
``_hashlib`` and with it a second OpenSSL, which cost ``vigkit office decrypt`` ~5 ms of
its start (docs/performance.md); pyca's ``HMAC.verify`` compares in constant time too.
"""

from __future__ import annotations

from typing import Protocol

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from device.errors import HeaderError

from .format import Stanza

FILE_KEY_SIZE = 16
TAG_SIZE = 16
_ZERO_NONCE = bytes(12)


class Recipient(Protocol):
    """Something a file can be encrypted to: it wraps the file key into stanzas."""

    def wrap(self, file_key: bytes) -> list[Stanza]: ...


class Identity(Protocol):
    """Something that can open a file: it unwraps the file key, or returns None."""

    def unwrap(self, stanzas: tuple[Stanza, ...]) -> bytes | None: ...


def hkdf(secret: bytes, salt: bytes, info: bytes) -> bytes:
    """32 bytes of HKDF-SHA256."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(secret)


def wrap_key(key: bytes, file_key: bytes) -> bytes:
    """Encrypt a file key under a one-time wrapping key (zero nonce, as the spec says)."""
    return ChaCha20Poly1305(key).encrypt(_ZERO_NONCE, file_key, None)


def unwrap_key(key: bytes, body: bytes, what: str) -> bytes | None:
    """The file key from a stanza body, or None if this key does not open it."""
    if len(body) != FILE_KEY_SIZE + TAG_SIZE:
        raise HeaderError(f"the {what} stanza holds a file key of the wrong size")
    try:
        return ChaCha20Poly1305(key).decrypt(_ZERO_NONCE, body, None)
    except InvalidTag:
        return None


def _header_hmac(file_key: bytes, signed: bytes) -> HMAC:
    """HMAC-SHA256 of the header under the HKDF "header" key, fed and not finalized."""
    mac = HMAC(hkdf(file_key, b"", b"header"), hashes.SHA256())
    mac.update(signed)
    return mac


def header_mac(file_key: bytes, signed: bytes) -> bytes:
    return _header_hmac(file_key, signed).finalize()


def header_mac_matches(file_key: bytes, signed: bytes, mac: bytes) -> bool:
    """Whether ``mac`` is the header's MAC (compared in constant time)."""
    try:
        _header_hmac(file_key, signed).verify(mac)
    except InvalidSignature:
        return False
    return True
