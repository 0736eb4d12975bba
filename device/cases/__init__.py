"""Cases: the family's case as the kit's backbone (issue #14).

A case (``cases/<opaque id>.age``, encrypted to the office key and the kit key) holds the
pseudonymous case code, the consent, the cycles with their helping questions, open or
closed, and case notes. Every film belongs to a case and a cycle, or is held as
Unassigned. The plaintext index knows each case only by its opaque id and dates
(:mod:`device.cases.registry`).

- :class:`CaseStore` (``store``): create, load, list, edit a case (operations from
  ``schema``, applied under a lock to the latest document).
- ``actions``: current case, may a film start (409 sentence), assign, erase a case,
  withdraw consent, new case with consent.
- ``erase``: erase films and cycles now; the office's erase-request queue.
- ``journey``: a case's journey as data, for the kit's and the office's case views.
- ``upgrade``: sort films of an older kit into cases, at the first unlock.
"""

from __future__ import annotations

from device.cases.actions import (
    assign_film,
    check_can_film,
    check_film_consented,
    confirm_code,
    erase_case,
    new_case,
    set_current,
    supervisor_may_watch,
    withdraw_consent,
)
from device.cases.erase import (
    all_requests,
    erase_cycle,
    erase_film,
    finish_erasures,
    mark_sent,
    pending_requests,
    recording_files,
)
from device.cases.model import (
    DEFAULT_ERASE_MONTHS,
    Case,
    Consent,
    Cycle,
    CycleReview,
    EraseRequest,
    Filing,
    Question,
    Reflection,
)
from device.cases.registry import CaseRow, Registry
from device.cases.store import CASES_DIR, CaseStore, check_case_id, is_case_id
from device.cases.upgrade import UpgradeReport, needs_upgrade, upgrade_from_notes

__all__ = [
    "CASES_DIR",
    "DEFAULT_ERASE_MONTHS",
    "Case",
    "CaseRow",
    "CaseStore",
    "Consent",
    "Cycle",
    "CycleReview",
    "EraseRequest",
    "Filing",
    "Question",
    "Reflection",
    "Registry",
    "UpgradeReport",
    "all_requests",
    "assign_film",
    "check_can_film",
    "check_case_id",
    "check_film_consented",
    "confirm_code",
    "erase_case",
    "erase_cycle",
    "erase_film",
    "finish_erasures",
    "is_case_id",
    "mark_sent",
    "needs_upgrade",
    "new_case",
    "pending_requests",
    "recording_files",
    "set_current",
    "supervisor_may_watch",
    "upgrade_from_notes",
    "withdraw_consent",
]
