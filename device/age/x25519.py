"""X25519 recipients (``age1…``) and identities (``AGE-SECRET-KEY-1…``)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from device.errors import HeaderError, KeyFormatError

from . import _bech32
from ._crypto import hkdf, unwrap_key, wrap_key
from .format import Stanza, b64decode, b64encode

_LABEL = b"age-encryption.org/v1/X25519"
_RECIPIENT_HRP = "age"
_IDENTITY_HRP = "age-secret-key-"


def _decode_key(text: str, hrp: str, what: str) -> bytes:
    try:
        got_hrp, data = _bech32.decode(text.strip())
    except ValueError as e:
        raise KeyFormatError(f"this {what} is not valid: {e}") from e
    if got_hrp != hrp or len(data) != 32:
        raise KeyFormatError(f"this is not an age X25519 {what} (it starts {got_hrp!r})")
    return data


class X25519Recipient:
    """A public key: anyone can encrypt to it."""

    def __init__(self, public_bytes: bytes) -> None:
        if len(public_bytes) != 32:
            raise KeyFormatError("an X25519 public key is 32 bytes")
        self._bytes = bytes(public_bytes)
        self._key = X25519PublicKey.from_public_bytes(self._bytes)

    @classmethod
    def parse(cls, text: str) -> X25519Recipient:
        return cls(_decode_key(text, _RECIPIENT_HRP, "recipient"))

    def __str__(self) -> str:
        return _bech32.encode(_RECIPIENT_HRP, self._bytes)

    def __repr__(self) -> str:
        return f"X25519Recipient({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, X25519Recipient) and other._bytes == self._bytes

    def __hash__(self) -> int:
        return hash(self._bytes)

    def wrap(self, file_key: bytes) -> list[Stanza]:
        ephemeral = X25519PrivateKey.generate()
        share = ephemeral.public_key().public_bytes_raw()
        secret = ephemeral.exchange(self._key)
        key = hkdf(secret, share + self._bytes, _LABEL)
        return [Stanza("X25519", (b64encode(share).decode(),), wrap_key(key, file_key))]


class X25519Identity:
    """A private key: it opens files encrypted to its recipient."""

    def __init__(self, private_bytes: bytes) -> None:
        if len(private_bytes) != 32:
            raise KeyFormatError("an X25519 secret key is 32 bytes")
        self._key = X25519PrivateKey.from_private_bytes(private_bytes)
        self._public = self._key.public_key().public_bytes_raw()

    @classmethod
    def generate(cls) -> X25519Identity:
        return cls(X25519PrivateKey.generate().private_bytes_raw())

    @classmethod
    def parse(cls, text: str) -> X25519Identity:
        return cls(_decode_key(text, _IDENTITY_HRP, "identity"))

    def __str__(self) -> str:
        return _bech32.encode(_IDENTITY_HRP, self._key.private_bytes_raw()).upper()

    def __repr__(self) -> str:  # never show the secret
        return f"X25519Identity(recipient={str(self.recipient())!r})"

    def recipient(self) -> X25519Recipient:
        return X25519Recipient(self._public)

    def unwrap(self, stanzas: tuple[Stanza, ...]) -> bytes | None:
        for stanza in stanzas:
            if stanza.type == "X25519":
                file_key = self._unwrap_one(stanza)
                if file_key is not None:
                    return file_key
        return None

    def _unwrap_one(self, stanza: Stanza) -> bytes | None:
        if len(stanza.args) != 1:
            raise HeaderError("an X25519 stanza must have exactly one argument")
        try:
            share = b64decode(stanza.args[0].encode())
        except ValueError as e:
            raise HeaderError("an X25519 stanza's share is not canonical base64") from e
        if len(share) != 32:
            raise HeaderError("an X25519 stanza's share is not 32 bytes")
        try:
            secret = self._key.exchange(X25519PublicKey.from_public_bytes(share))
        except ValueError as e:  # all-zero shared secret: a low-order point
            raise HeaderError("an X25519 stanza's share is a forbidden low-order point") from e
        key = hkdf(secret, share + self._public, _LABEL)
        return unwrap_key(key, stanza.body, "X25519")
