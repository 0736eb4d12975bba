"""What the office page holds while it runs: the organisation's key, in memory only, and
the gate that decides which browser may use it.

The gate lets in a browser that brings the access code made for this run (printed by
``vigkit office serve`` in the page's address, as Jupyter does), or, if the key file is
protected by a passphrase, that passphrase. Wrong passphrases back off per client, as the
kit's unlock does (``web.common.backoff``); the code is 192 random bits, so it cannot be
guessed.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from flask import current_app

from device import age
from device.errors import WrongPassphrase
from device.media.thumbnails import Thumbnail
from device.office.recordings import ArchiveRecordings
from web.common.backoff import Backoff
from web.common.films import Layouts
from web.common.keyring import WHOLE_KIT
from web.common.page import PageApp

MAX_FORM_BYTES = 48 * 1024  # a comment of 4,000 characters, URL-encoded, fits

__all__ = ["AnyIdentity", "Gate", "Office", "OfficeApp", "office"]


class AnyIdentity:
    """Several keys as one (a key file may hold more than one): the first that opens."""

    def __init__(self, identities: Sequence[age.Identity]) -> None:
        self._identities = tuple(identities)

    def unwrap(self, stanzas: tuple[age.Stanza, ...]) -> bytes | None:
        for identity in self._identities:
            file_key = identity.unwrap(stanzas)
            if file_key is not None:
                return file_key
        return None


class Gate:
    """Who may see the page: the run's access code, or the key's own passphrase."""

    def __init__(
        self,
        code: str,
        wrapped_key: bytes | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.code = code
        self._wrapped = wrapped_key  # the key file as it is on disk (ciphertext)
        self._backoff = Backoff(clock)
        self._scrypt = threading.Lock()  # one passphrase tried at a time, as on the kit

    @property
    def takes_passphrase(self) -> bool:
        return self._wrapped is not None

    def code_ok(self, given: str) -> bool:
        return hmac.compare_digest(self.code.encode(), given.encode("utf-8", "replace"))

    def enter(self, given: str, client: Sequence[str] = WHOLE_KIT) -> bool:
        """True if ``given`` is the code or the key's passphrase; TooManyTries if too soon
        for this ``client`` (its back-off keys, ``backoff.client_keys``)."""
        if self.code_ok(given.strip()):
            return True
        with self._scrypt:
            self._backoff.check(client)
            if self._wrapped is not None and given:
                try:
                    age.unwrap_identities(self._wrapped, given)
                    self._backoff.succeeded(client)
                    return True
                except WrongPassphrase:
                    pass
            self._backoff.failed(client)
            return False


@dataclass
class Office:
    """What the office page holds while it runs (``OfficeApp.office``)."""

    recordings: ArchiveRecordings
    identities: list[age.Identity]
    gate: Gate
    layouts: Layouts = field(default_factory=Layouts)
    run: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    _thumbs: tuple[tuple[str, str], list[Thumbnail]] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def identity(self) -> age.Identity:
        if len(self.identities) == 1:
            return self.identities[0]
        return AnyIdentity(self.identities)

    @property
    def recipients(self) -> list[age.Recipient]:
        """Whom the office's own files are encrypted to: the key the server holds."""
        return [i.recipient() for i in self.identities if isinstance(i, age.X25519Identity)]

    def cached_thumbs(self, key: tuple[str, str]) -> list[Thumbnail] | None:
        with self._lock:
            held = self._thumbs
        return held[1] if held is not None and held[0] == key else None

    def keep_thumbs(self, key: tuple[str, str], thumbs: list[Thumbnail]) -> None:
        with self._lock:
            self._thumbs = (key, thumbs)


class OfficeApp(PageApp):
    """The office's page: a :class:`PageApp` holding the office's key and archive."""

    def __init__(self, held: Office, *, title: str, secret_key: bytes | None) -> None:
        super().__init__(
            cookie_name="vigkit_office",  # not the kit's: cookies ignore the port
            max_form_bytes=MAX_FORM_BYTES,
            title=title,
            secret_key=secret_key,
        )
        self.office = held

    def close(self) -> None:
        self.office.layouts.clear()  # the films kept open for seeking


def office() -> Office:
    """What the office page holds, in a request to the office's page."""
    app = current_app
    if not isinstance(app, OfficeApp):  # a blueprint registered on the wrong app
        raise TypeError("this view belongs to the office's page (web.office.create_office_app)")
    return app.office
