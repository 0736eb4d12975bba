"""The keyed side of the header: make one for recipients, open one with identities."""

from __future__ import annotations

import os
from collections.abc import Sequence

from device.errors import (
    HeaderError,
    HeaderMacError,
    NoIdentityMatch,
    RecipientError,
    WrongPassphrase,
)

from ._crypto import FILE_KEY_SIZE, Identity, Recipient, header_mac, header_mac_matches
from .format import Header, Stanza, encode_header, encode_unsigned
from .scrypt import ScryptIdentity, ScryptRecipient


def seal_header(recipients: Sequence[Recipient]) -> tuple[bytes, bytes]:
    """A fresh random file key and the header that wraps it for every recipient."""
    if not recipients:
        raise RecipientError("no recipients were given, so nobody could open the file")
    if len(recipients) > 1 and any(isinstance(r, ScryptRecipient) for r in recipients):
        raise RecipientError("a passphrase cannot be combined with other recipients")
    file_key = os.urandom(FILE_KEY_SIZE)
    stanzas: list[Stanza] = []
    for recipient in recipients:
        stanzas.extend(recipient.wrap(file_key))
    mac = header_mac(file_key, encode_unsigned(stanzas))
    return file_key, encode_header(stanzas, mac)


def open_header(header: Header, identities: Sequence[Identity]) -> bytes:
    """The file key, once an identity opens a stanza and the header MAC checks out."""
    if len(header.stanzas) != 1 and any(s.type == "scrypt" for s in header.stanzas):
        raise HeaderError("a passphrase (scrypt) stanza is not alone in the header")
    if not identities:
        raise NoIdentityMatch("no key or passphrase was given to open the file")
    for identity in identities:
        file_key = identity.unwrap(header.stanzas)
        if file_key is not None:
            break
    else:
        raise _no_match(header, identities)
    if not header_mac_matches(file_key, header.signed, header.mac):
        raise HeaderMacError("the header's MAC does not match: the header was altered")
    return file_key


def _no_match(header: Header, identities: Sequence[Identity]) -> NoIdentityMatch:
    by_passphrase = all(isinstance(i, ScryptIdentity) for i in identities)
    if by_passphrase and [s.type for s in header.stanzas] == ["scrypt"]:
        return WrongPassphrase("the passphrase does not open this file")
    return NoIdentityMatch("none of the given keys can open this file")
