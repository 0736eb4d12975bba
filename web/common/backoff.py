"""Back-off after wrong passphrases, per client, so a stranger's guesses never lock the
practitioner out.

A client is known by its address on the hotspot and by its browser session. A wrong
passphrase makes both wait (1 s, doubling, at most a minute), and a try is refused while
either waits: a stranger who drops the cookie still waits by address, and one who keeps
it but changes address still waits by session. Nothing is shared between clients except the scrypt
work itself, which the caller caps (see :class:`web.common.keyring.Keyring`): a
practitioner on her own phone always gets her try at once.

Only the most recent ``MAX_CLIENTS`` clients are remembered, so a flood of made-up
sessions cannot grow the table without end; the oldest are forgotten first.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from device.errors import VigKitError

MAX_BACKOFF_S = 60.0
MAX_CLIENTS = 4096

__all__ = ["MAX_BACKOFF_S", "Backoff", "TooManyTries", "client_keys"]


class TooManyTries(VigKitError):
    """An unlock came before the back-off after a wrong passphrase had passed."""

    def __init__(self, wait_s: float) -> None:
        seconds = max(1, round(wait_s))
        super().__init__(
            f"please wait {seconds} second{'s' if seconds != 1 else ''} before trying again",
            hint="Each wrong passphrase makes the wait a little longer.",
        )
        self.wait_s = wait_s


@dataclass
class _Wait:
    failures: int
    not_before: float


def client_keys(address: str | None, session_secret: str | None) -> tuple[str, ...]:
    """The keys one client's back-off is kept under: its address and its session (the
    session's secret hashed, so the table holds nothing a cookie could be made from)."""
    keys = [f"address {address or 'unknown'}"]
    if session_secret:
        keys.append("session " + hashlib.sha256(session_secret.encode()).hexdigest()[:32])
    return tuple(keys)


class Backoff:
    """Wrong-passphrase waits per client key; thread safe."""

    def __init__(self, clock: Callable[[], float], *, max_clients: int = MAX_CLIENTS) -> None:
        self._clock = clock
        self._max = max_clients
        self._lock = threading.Lock()
        self._waits: OrderedDict[str, _Wait] = OrderedDict()

    def remaining(self, keys: Sequence[str]) -> float:
        """How long the client must still wait (0 when it need not)."""
        with self._lock:
            now = self._clock()
            waits = [w.not_before - now for k in keys if (w := self._waits.get(k)) is not None]
        return max([0.0, *waits])

    def check(self, keys: Sequence[str]) -> None:
        """Raise :class:`TooManyTries` if any of the client's keys is still waiting."""
        longest = self.remaining(keys)
        if longest > 0:
            raise TooManyTries(longest)

    def failed(self, keys: Sequence[str]) -> None:
        """A wrong passphrase from this client: each of its keys waits twice as long."""
        with self._lock:
            now = self._clock()
            for key in keys:
                wait = self._waits.pop(key, None) or _Wait(0, now)
                wait.failures += 1
                wait.not_before = now + min(MAX_BACKOFF_S, 2.0 ** (wait.failures - 1))
                self._waits[key] = wait  # the newest last: the oldest go first
            while len(self._waits) > self._max:
                self._waits.popitem(last=False)

    def succeeded(self, keys: Sequence[str]) -> None:
        """The right passphrase: this client starts afresh (no one else does)."""
        with self._lock:
            for key in keys:
                self._waits.pop(key, None)

    def ends_at(self) -> float:
        """When the last client's wait ends (by this back-off's clock; 0 when none waits)."""
        with self._lock:
            return max((w.not_before for w in self._waits.values()), default=0.0)
