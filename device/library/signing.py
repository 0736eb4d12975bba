"""The kit's Ed25519 signing key, and signed JSON documents (manifests, the audit chain).

The office's public key is on every kit, and a kit's storage credentials can be read
off its card, so anyone with both could write new notes into the archive and fix the
manifest's hashes. What they cannot do without the kit is sign: each manifest,
``audit.json`` (the audit chain to its head) and ``erasures.json`` carry an Ed25519
signature by the kit's own key, which the office checks against its register of kits.

The key sits on the card unencrypted (``keys/kit-signing.key``, 0600): sync runs
unattended, with no passphrase. So it proves "made by this kit's card", not "made by the
practitioner"; docs/security.md says what that does and does not protect.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from device.errors import ArchiveError, LibraryError
from device.library.atomic import atomic_write
from device.library.layout import DataDir

PUBLIC_PREFIX = "vigkit-ed25519:"
SIGNATURE_FIELD = "signature"


def ensure_signing_key(data: DataDir) -> Ed25519PrivateKey:
    """The kit's signing key, made on first use (set-up, or the first sync or unlock of
    a kit from before signing); its public half is written beside it for the office."""
    path = data.signing_key_file
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        atomic_write(path, pem, 0o600)
    except (OSError, ValueError) as e:
        raise LibraryError(
            f"the kit's signing key {path} cannot be read", hint="Set the kit up again."
        ) from e
    if not isinstance(key, Ed25519PrivateKey):
        raise LibraryError(f"{path} is not an Ed25519 key", hint="Set the kit up again.")
    atomic_write(data.signing_public_file, f"{public_text(key.public_key())}\n".encode(), 0o644)
    return key


def public_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PUBLIC_PREFIX + base64.b64encode(raw).decode()


def parse_public(text: str) -> Ed25519PublicKey:
    """A ``vigkit-ed25519:…`` public key, or ValueError saying what is wrong."""
    text = text.strip()
    if not text.startswith(PUBLIC_PREFIX):
        raise ValueError(f"a kit's signing key starts with {PUBLIC_PREFIX}")
    try:
        raw = base64.b64decode(text[len(PUBLIC_PREFIX) :], validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as e:
        raise ValueError("the kit's signing key is damaged (not 32 bytes of base64)") from e


def _canonical(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()


def signed_json(doc: dict[str, Any], key: Ed25519PrivateKey) -> bytes:
    """``doc`` as JSON with a signature over its canonical form (the same JSON without it)."""
    signature = key.sign(_canonical(doc))
    return _canonical({**doc, SIGNATURE_FIELD: base64.b64encode(signature).decode()})


def check_signed(doc: dict[str, Any], key: Ed25519PublicKey, where: str) -> None:
    """Refuse ``doc`` (as parsed) unless ``key`` signed it, in a sentence naming ``where``."""
    body = {k: v for k, v in doc.items() if k != SIGNATURE_FIELD}
    text = doc.get(SIGNATURE_FIELD)
    if not isinstance(text, str):
        raise ArchiveError(f"{where} is not signed by its kit, so it may not be from the kit")
    try:
        key.verify(base64.b64decode(text, validate=True), _canonical(body))
    except (InvalidSignature, binascii.Error, ValueError) as e:
        raise ArchiveError(
            f"{where} does not carry its kit's signature: it was changed after the kit wrote it"
        ) from e
