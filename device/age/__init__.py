"""age v1 encryption (C2SP age spec) on pyca/cryptography: keys, files, streams.

Recording encrypts with :class:`Writer` to public keys only; playback opens files with
:class:`Reader` (random access) once the kit's identity is unlocked; :func:`salvage`
seals an interrupted recording. Everything written here opens with the stock ``age`` CLI.
"""

from ._crypto import Identity, Recipient
from ._io import read_header
from .armor import dearmor
from .decrypt import decrypt
from .format import Header, Stanza
from .head_first import HeadFirstWriter
from .keyfiles import is_encrypted, parse_identities, parse_recipients
from .passphrase import (
    DEFAULT_WORK_FACTOR,
    MAX_WORK_FACTOR,
    PIN_PREFIX,
    KitKey,
    identity_file_text,
    load_identities,
    unwrap_identities,
    unwrap_identity,
    unwrap_kit_key,
    wrap_identity,
)
from .reader import Reader
from .salvage import SalvageReport, copy_intact, salvage
from .scrypt import ScryptIdentity, ScryptRecipient
from .simple import decrypt_bytes, encrypt_bytes
from .stream import CHUNK_SIZE
from .strength import check_passphrase, time_to_guess
from .writer import Writer
from .x25519 import X25519Identity, X25519Recipient

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_WORK_FACTOR",
    "MAX_WORK_FACTOR",
    "PIN_PREFIX",
    "HeadFirstWriter",
    "Header",
    "Identity",
    "KitKey",
    "Reader",
    "Recipient",
    "SalvageReport",
    "ScryptIdentity",
    "ScryptRecipient",
    "Stanza",
    "Writer",
    "X25519Identity",
    "X25519Recipient",
    "check_passphrase",
    "copy_intact",
    "dearmor",
    "decrypt",
    "decrypt_bytes",
    "encrypt_bytes",
    "identity_file_text",
    "is_encrypted",
    "load_identities",
    "parse_identities",
    "parse_recipients",
    "read_header",
    "salvage",
    "time_to_guess",
    "unwrap_identities",
    "unwrap_identity",
    "unwrap_kit_key",
    "wrap_identity",
]
