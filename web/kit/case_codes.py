"""The case codes the Saved line shows (``web.kit.status``), kept between polls.

Every open page polls ``/status`` about once a second, and decrypting the case's record
each time is work for nothing: a case's code never changes, and the cycle shown is the
film's own (from the index, read at each poll). Keyed by film and case, so a film moved to
another case is read again; emptied with everything else opened with the key when the key
ring forgets it (Lock, idle timeout: ``create_app``'s ``forget``).
"""

from __future__ import annotations

from collections.abc import Callable


class CaseCodes:
    def __init__(self) -> None:
        self._codes: dict[tuple[str, str], str] = {}

    def clear(self) -> None:
        self._codes.clear()

    def get(self, rec_id: str, case_id: str, read: Callable[[], str]) -> str:
        """The code of ``case_id`` for film ``rec_id``, from ``read`` the first time."""
        known = self._codes.get((rec_id, case_id))
        if known is None:
            known = read()
            self._codes[(rec_id, case_id)] = known
        return known
