"""Which browser sessions are in review-only mode, and what each may still open.

Held in server memory, keyed by the session's unlock token (the secret the kit gave that
browser when it unlocked), never in the cookie alone: a cookie saved before the review
and sent again still carries the same token, so it is still in review mode. Only the
kit's passphrase ends the mode (``web.kit.review_mode``); Lock and the idle timeout forget
every token, and with them every mode.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


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


class ReviewModes:
    """The review-only sessions of this kit; thread safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scopes: dict[str, ReviewScope] = {}

    def start(self, token: str, scope: ReviewScope) -> None:
        with self._lock:
            self._scopes[token] = scope

    def get(self, token: object) -> ReviewScope | None:
        if not isinstance(token, str):
            return None
        with self._lock:
            return self._scopes.get(token)

    def end(self, token: str) -> None:
        with self._lock:
            self._scopes.pop(token, None)

    def clear(self) -> None:
        with self._lock:
            self._scopes.clear()
