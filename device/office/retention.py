"""``vigkit office retention``: apply the kits' erase requests and erase-by dates to the
archive.

For each kit folder, ``erasures.json`` (:mod:`device.sync.erasures`) says which
recordings the kit erased (erase now, withdrawn consent), each film's consent erase-by
date and each case's. A recording is due when a request names it, or when its erase-by
date has come by this machine's clock (the office has NTP; the same rule as the kit's: the
film goes on its erase-by date, never before). Every file of a due recording goes (the
kit's ciphertext and the office's comments on it), except its plain manifest, which
keeps ids, sizes and hashes only, so ``vigkit office verify`` can tell an erased
recording from a missing one. A case's own file (``cases/<id>.age``,
:mod:`device.sync.casefiles`) goes when the kit erased the whole case (erased, or consent
withdrawn) or on the case's erase-by date. Each removal is written to ``office-audit.jsonl`` first
(:mod:`device.office.office_audit`), made durable, then the files go.

Only what the kit signed is acted on: ``erasures.json`` comes from :func:`open_archive`
with the office's register of kits, so a forged or unsigned one (anyone with write
access to the archive and a wish to destroy evidence could write one) erases nothing.
The dates are the kit's own, in that signed file; case files are never decrypted here.

Safe from a timer: a lock (``.vigkit-retention.lock`` in ARCHIVE) keeps two runs apart;
a recording with no files left is done, so a second run does nothing; a dry run reads
only. Nothing else in the archive is touched.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from device.errors import ArchiveError, VigKitError
from device.library import fsync_dir
from device.office import office_audit
from device.office.archive import MANIFEST_SUFFIX, KitFolder
from device.sync.casefiles import CASES_DIR
from device.sync.erasures import Erasures

LOCK_NAME = ".vigkit-retention.lock"
OK, PROBLEMS, BUSY = 0, 1, 75  # 75: EX_TEMPFAIL, another run holds the lock


class RetentionBusy(VigKitError):
    hint = "Another vigkit office retention is running on this archive; the next run will do it."


@dataclass(frozen=True)
class Due:
    kit: KitFolder
    recording: str  # a recording's id, or a case's opaque id (``kind`` "case")
    reason: str
    files: tuple[str, ...]  # relative to the kit folder
    kind: str = "recording"


@dataclass
class Outcome:
    removed: list[Due] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def plan(kits: list[KitFolder], today: date) -> list[Due]:
    """Every recording due for removal that still has files in the archive."""
    due = []
    for kit in kits:
        erasures = kit.erasures  # signed by the kit (open_archive), or None
        if erasures is None:
            continue
        for rec_id, reason in _reasons(erasures, today).items():
            files = recording_files(kit, rec_id)
            if files:
                due.append(Due(kit, rec_id, reason, files))
        for case_id, reason in case_reasons(erasures, today).items():
            name = f"{CASES_DIR}/{case_id}.age"
            if (kit.path / name).is_file():
                due.append(Due(kit, case_id, reason, (name,), kind="case"))
    return due


def case_reasons(erasures: Erasures, today: date) -> dict[str, str]:
    """Case id → why its file goes: the kit erased the whole case, or its date came."""
    reasons: dict[str, str] = {}
    for req in erasures.requests:
        if req.kind == "case" and req.case:
            reasons.setdefault(
                req.case, f"erase request {req.seq} from the kit (case, {req.requested_at[:10]})"
            )
    for entry in erasures.cases:
        if date.fromisoformat(entry.date) <= today:
            reasons.setdefault(entry.case, f"consent erase-by date {entry.date}")
    return reasons


def _reasons(erasures: Erasures, today: date) -> dict[str, str]:
    reasons: dict[str, str] = {}
    for req in erasures.requests:
        for rec_id in req.recordings:
            reasons.setdefault(
                rec_id,
                f"erase request {req.seq} from the kit ({req.kind}, {req.requested_at[:10]})",
            )
    for entry in erasures.erase_by:
        if date.fromisoformat(entry.date) <= today:
            reasons.setdefault(entry.recording, f"consent erase-by date {entry.date}")
    return reasons


def recording_files(kit: KitFolder, rec_id: str) -> tuple[str, ...]:
    """The recording's files in its kit folder but its manifest (ids and hashes only)."""
    return tuple(
        sorted(
            p.name
            for p in kit.path.glob(f"{rec_id}.*")
            if p.is_file() and not p.name.endswith(MANIFEST_SUFFIX)
        )
    )


def counted(due: list[Due]) -> str:
    """How many recordings and cases, in words."""
    cases = sum(1 for item in due if item.kind == "case")
    return f"{len(due) - cases} recording(s) and {cases} case(s)"


def apply(due: list[Due], clock: Callable[[], datetime]) -> Outcome:
    """Log each removal (durably), then remove its files."""
    outcome = Outcome()
    for item in due:
        office_audit.append(
            item.kit.path, clock(), item.recording,
            reason=item.reason, files=list(item.files), kind=item.kind,
        )  # fmt: skip
        try:
            for name in item.files:
                (item.kit.path / name).unlink(missing_ok=True)
            for folder in {(item.kit.path / name).parent for name in item.files}:
                fsync_dir(folder)
        except OSError as e:
            outcome.problems.append(f"{item.recording}: could not remove its files ({e.strerror})")
            continue
        outcome.removed.append(item)
    return outcome


class ArchiveLock:
    """One retention run at a time on an archive (flock: freed if the process dies)."""

    def __init__(self, root: Path) -> None:
        self._path = root / LOCK_NAME
        self._fd = -1

    def __enter__(self) -> ArchiveLock:
        try:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            raise ArchiveError(f"cannot write in {self._path.parent}: {e.strerror}") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RetentionBusy("another retention run holds this archive") from None
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)
