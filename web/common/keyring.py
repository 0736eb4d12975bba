"""The kit's unlocked identity, held in server memory only.

Unlocking opens ``keys/kit-identity.age`` with the passphrase; the identity then lives in
one :class:`Unlock` until Lock or the idle timeout forgets it. Failed unlocks back off per
client (:mod:`web.common.backoff`), so guessing from the hotspot is slow for the guesser
and for no one else. The one thing clients share is the scrypt work: ``SCRYPT_AT_ONCE``
unwraps at a time (each takes the board's memory for a while), and no lock that a page
needs is held meanwhile, so the unlocked phone's pages never wait for a stranger's guess.
A client's own short back-off is waited out rather than refused: the right passphrase
typed a moment after a typo opens the kit (the wait is the same; only the retyping is
spared).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from device import age
from device.errors import VigKitError, WrongPassphrase
from web.common.backoff import MAX_BACKOFF_S, Backoff, TooManyTries

__all__ = ["MAX_BACKOFF_S", "SCRYPT_AT_ONCE", "WHOLE_KIT", "Keyring", "TooManyTries", "Unlock"]

WAIT_OUT_S = 2.0  # a back-off this short is waited out (a client's first two typos)
SCRYPT_AT_ONCE = 1  # logN 17 holds 128 MiB while it runs: one at a time on a Pi
WHOLE_KIT = ("kit",)  # the back-off key of a caller that names no client


@dataclass
class Unlock:
    identity: age.X25519Identity
    last_activity: float
    tokens: set[str] = field(default_factory=set)  # the browser sessions that unlocked


class Keyring:
    """Unlock, touch and lock the kit's identity; thread safe."""

    def __init__(
        self,
        identity_file: Path,
        *,
        idle_timeout_s: float,
        clock: Callable[[], float],
        on_forget: Callable[[], None] = lambda: None,
        max_work_factor: int = age.MAX_WORK_FACTOR,
        on_open: Callable[[age.KitKey, str], None] = lambda key, passphrase: None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``on_forget`` runs whenever the identity is forgotten (Lock or the idle
        timeout), so what was opened with it (pooled film readers) is forgotten too.
        ``max_work_factor``: the most scrypt work this board will do (its memory).
        ``on_open`` checks the opened key (its pinned recipients) before the kit counts as
        unlocked; whatever it raises refuses the unlock."""
        self._file = identity_file
        self._max_work = max_work_factor
        self._on_open = on_open
        self._on_forget = on_forget
        self._idle = idle_timeout_s
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._unlock: Unlock | None = None
        self._backoff = Backoff(clock)
        self._scrypt = threading.Semaphore(SCRYPT_AT_ONCE)

    def unlock(self, passphrase: str, client: Sequence[str] = WHOLE_KIT) -> str:
        """Open the identity; return a token for the browser session that asked.

        ``client``: the asking client's back-off keys (``backoff.client_keys``)."""
        wait = self._backoff.remaining(client)
        if wait > WAIT_OUT_S:
            raise TooManyTries(wait)
        if wait > 0:
            self._sleep(wait)  # holding nothing: pages and other clients go on meanwhile
        with self._scrypt:
            # looked at again here, so a client's queued tries see its last: more to wait
            # than was waited out means one of its tries failed meanwhile
            left = self._backoff.remaining(client)
            if left > wait:
                raise TooManyTries(left)
            try:
                key = age.unwrap_kit_key(self._file.read_bytes(), passphrase, self._max_work)
            except WrongPassphrase:
                self._backoff.failed(client)
                raise
            except OSError as e:
                raise VigKitError(
                    "this kit has no key to unlock yet",
                    hint="Run vigkit setup (or vigkit demo) to make one.",
                ) from e
            # the pinned recipients, one unlock at a time (an older kit is pinned here);
            # a difference refuses the kit
            self._on_open(key, passphrase)
        self._backoff.succeeded(client)
        with self._lock:
            now = self._clock()
            token = secrets.token_urlsafe(24)
            if self._unlock is None:
                self._unlock = Unlock(key.identity, now)
            self._unlock.tokens.add(token)
            self._unlock.last_activity = now
            return token

    def backoff_ends_at(self) -> float:
        """When every client's wait after a wrong passphrase has ended (the key ring's
        clock); what a test waits for."""
        return self._backoff.ends_at()

    def identity(self, token: str | None, *, touch: bool) -> age.X25519Identity | None:
        """The identity if ``token`` unlocked it and the kit was not idle too long."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            if self._unlock is None or token is None or token not in self._unlock.tokens:
                return None
            if touch:
                self._unlock.last_activity = now
            return self._unlock.identity

    def held_identity(self) -> age.X25519Identity | None:
        """The identity while the kit is unlocked, for the kit's own background work
        (thumbnails); never touches the idle timer."""
        with self._lock:
            self._expire(self._clock())
            return None if self._unlock is None else self._unlock.identity

    def lock(self) -> None:
        with self._lock:
            self._unlock = None
        self._on_forget()

    @property
    def is_unlocked(self) -> bool:
        with self._lock:
            self._expire(self._clock())
            return self._unlock is not None

    def _expire(self, now: float) -> None:
        if self._unlock is not None and now - self._unlock.last_activity > self._idle:
            self._unlock = None
            self._on_forget()  # under the lock: it must not call back into the keyring
