"""Which browser sessions are in review-only mode, and what each may still open.

Held in server memory, keyed by the session's unlock token (the secret the kit gave that
browser when it unlocked), never in the cookie alone: a cookie saved before the review
and sent again still carries the same token, so it is still in review mode. Only the
kit's passphrase ends the mode (``web.kit.review_mode``), or a short PIN the practitioner
set when starting this review: kept as a salted scrypt hash in memory only, never on
disk, and refused for good after :data:`PIN_TRIES` wrong tries (each wrong try also waits
longer, as the passphrase does). Lock and the idle timeout forget every token, and with
them every mode and PIN.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from device.errors import CaseError

PIN = re.compile(r"[0-9]{4,8}")
PIN_TRIES = 5


@dataclass(frozen=True)
class ReviewScope:
    """One shared review: its own page, the films whose exported clips and stills it
    shows, where its reflections are kept, and the case page to go back to."""

    endpoint: str  # "review.page" or "cycle_review.page"
    args: tuple[tuple[str, str], ...]  # the page's view arguments, as text
    page: str  # the review's address, with the clips picked from earlier cycles
    films: frozenset[str]
    newest: str  # the film whose notes take "review done"
    case_id: str | None  # None: a film from before cases (reflections go in its notes)
    cycle: int | None
    back: str  # the case (or film) page, behind the passphrase

    def is_page(self, endpoint: str | None, args: dict[str, object]) -> bool:
        wanted = {k: str(v) for k, v in args.items()}
        return endpoint == self.endpoint and wanted == dict(self.args)


@dataclass
class Pin:
    """A review's PIN as a salted hash, with its wrong tries."""

    salt: bytes
    digest: bytes
    failures: int = 0
    not_before: float = 0.0

    @classmethod
    def of(cls, typed: str) -> Pin:
        if not PIN.fullmatch(typed):
            raise CaseError(
                "a PIN for the review is 4 to 8 digits",
                hint="Type 4 to 8 digits, or leave it empty to use the kit's passphrase.",
            )
        salt = secrets.token_bytes(16)
        return cls(salt, _hash(typed, salt))

    def matches(self, typed: str) -> bool:
        return hmac.compare_digest(self.digest, _hash(typed, self.salt))


def _hash(pin: str, salt: bytes) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=2**14, r=8, p=1)


@dataclass
class _Held:
    scope: ReviewScope
    pin: Pin | None = field(default=None)


class ReviewModes:
    """The review-only sessions of this kit; thread safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, _Held] = {}
        self._clock = clock

    def start(self, token: str, scope: ReviewScope, pin: Pin | None = None) -> None:
        with self._lock:
            self._held[token] = _Held(scope, pin)

    def has_pin(self, token: object) -> bool:
        with self._lock:
            held = self._held.get(token) if isinstance(token, str) else None
            return held is not None and held.pin is not None and held.pin.failures < PIN_TRIES

    def try_pin(self, token: str, typed: str) -> float | None:
        """None when ``typed`` is this review's PIN; else the seconds to wait before the
        next try (0: try again now). After PIN_TRIES wrong tries the PIN is off."""
        with self._lock:
            held = self._held.get(token)
            pin = held.pin if held else None
            now = self._clock()
            if pin is None or pin.failures >= PIN_TRIES:
                return 0.0
            if now < pin.not_before:
                return pin.not_before - now
            if pin.matches(typed):
                return None
            pin.failures += 1
            pin.not_before = now + 2.0 ** (pin.failures - 1)
            return 0.0

    def get(self, token: object) -> ReviewScope | None:
        if not isinstance(token, str):
            return None
        with self._lock:
            held = self._held.get(token)
            return held.scope if held else None

    def end(self, token: str) -> None:
        with self._lock:
            self._held.pop(token, None)

    def clear(self) -> None:
        with self._lock:
            self._held.clear()
