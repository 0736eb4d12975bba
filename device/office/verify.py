"""``vigkit office verify``: is the archive complete and untouched?

For each kit folder: every file each manifest lists is there with its size and SHA-256;
the audit log is one unbroken hash chain from its first row (``audit.json`` and the rows
carried in manifests, which must agree); interrupted films are flagged; every case file
``cases.json`` lists is there with its size and SHA-256, and a case file it does not
list is flagged (no office command reads it); a recording or case the kit
asked to erase, or that ``vigkit office retention`` removed (``office-audit.jsonl``,
whose chain is checked too), is named as erased, not missing. Returns a report
whose ``status`` is the command's exit status: 0 intact, 1 problems, 3 intact but with
interrupted films to look at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from device import age
from device.errors import AgeError, ArchiveError
from device.library import AuditRow, sha256_file, verify_chain
from device.office import office_audit
from device.office.archive import KitFolder, unlisted_cases, unlisted_files
from device.office.retention import recording_files
from device.sync.casefiles import CASES_DIR
from device.sync.manifest import AUDIT_NAME, parse_audit

OK, PROBLEMS, FLAGGED = 0, 1, 3
EXPECTED_RECIPIENTS = 2  # the office and the kit (vigkit setup)


@dataclass
class KitReport:
    name: str
    files_ok: int = 0
    recordings: int = 0
    audit_rows: int = 0
    problems: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # not damage, but worth a look
    notes: list[str] = field(default_factory=list)
    erased: list[str] = field(default_factory=list)  # removed on purpose: not missing


@dataclass
class Report:
    kits: list[KitReport]

    @property
    def status(self) -> int:
        if any(k.problems for k in self.kits):
            return PROBLEMS
        return FLAGGED if any(k.flags for k in self.kits) else OK


def verify(
    kits: list[KitFolder], progress: Callable[[int, int, str], None] | None = None
) -> Report:
    tell = progress or (lambda done, total, name: None)
    total = sum(f.size for k in kits for m in k.manifests.values() for f in m.files)
    done = 0
    reports = []
    for kit in kits:
        report = KitReport(kit.name, recordings=len(kit.manifests))
        report.problems += kit.unreadable
        gone = _erasures(kit, report)
        for manifest in kit.manifests.values():
            if _erased(kit, manifest.recording, gone, report):
                done += sum(f.size for f in manifest.files)
                continue
            for entry in manifest.files:
                tell(done, total, entry.name)
                problem = _check_file(kit, entry.name, entry.size, entry.sha256)
                if problem:
                    report.problems.append(problem)
                else:
                    report.files_ok += 1
                done += entry.size
            _flag_state(report, manifest.recording, manifest.state)
        _check_cases(kit, gone, report)
        extra = unlisted_files(kit)
        if extra:
            report.notes.append(
                f"{len(extra)} file(s) not in any manifest yet (a sync still under way?): "
                + ", ".join(extra[:5])
                + (" …" if len(extra) > 5 else "")
            )
        _check_audit(kit, report)
        check_headers(kit, report)
        reports.append(report)
    tell(total, total, "")
    return Report(reports)


def _erasures(kit: KitFolder, report: KitReport) -> dict[str, str]:
    """Recording id → why it may be absent: the office's log of what retention removed
    (its chain checked) and the kit's erase requests (the kit erased it before the
    office had it all, or retention has not run yet)."""
    gone: dict[str, str] = {}
    try:
        rows = office_audit.read_log(kit.path)
    except ArchiveError as e:
        report.problems.append(e.message)
        return gone
    for req in kit.erasures.requests if kit.erasures else ():
        for rec_id in (*req.recordings, *([req.case] if req.kind == "case" else [])):
            gone[rec_id] = f"erased on the kit ({req.kind}, {req.requested_at[:10]})"
    report.problems += [f"{office_audit.OFFICE_AUDIT_NAME}: {p}" for p in verify_chain(rows)]
    for row in rows:
        gone[row.recording] = f"erased at the office on {row.at[:10]}: {row.detail['reason']}"
    return gone


def _erased(kit: KitFolder, rec_id: str, gone: dict[str, str], report: KitReport) -> bool:
    """True when the recording was erased on purpose and none of its files is left."""
    if rec_id not in gone:
        return False
    left = recording_files(kit, rec_id)
    if left:
        report.notes.append(
            f"{rec_id}: the kit asked for it to be erased; "
            "vigkit office retention removes it at its next run"
        )
        return False
    report.erased.append(f"{rec_id}: {gone[rec_id]}")
    return True


def _check_cases(kit: KitFolder, gone: dict[str, str], report: KitReport) -> None:
    """Each case file the kit listed: intact, or erased on purpose (retention's log); a
    case file the kit did not list is flagged."""
    for entry in kit.cases.cases if kit.cases else ():
        name = f"{CASES_DIR}/{entry.name}"
        if entry.case in gone and not kit.file(name).exists():
            report.erased.append(f"case {entry.case}: {gone[entry.case]}")
            continue
        problem = _check_file(kit, name, entry.size, entry.sha256)
        if problem:
            report.problems.append(problem)
        else:
            report.files_ok += 1
    for name in unlisted_cases(kit):
        report.flags.append(
            f"{name} is not in the kit's signed cases.json: a sync still under way, or put "
            "there by someone else; no office command reads it"
        )


def _check_file(kit: KitFolder, name: str, size: int, sha256: str) -> str | None:
    path = kit.file(name)
    try:
        actual = path.stat().st_size
    except FileNotFoundError:
        return f"{name} is missing"
    if actual != size:
        return f"{name} has {actual:,} bytes; the manifest says {size:,}"
    if sha256_file(path) != sha256:
        return f"{name} differs from what the kit sent (its SHA-256 does not match)"
    return None


def _flag_state(report: KitReport, rec_id: str, state: str) -> None:
    if state == "interrupted":
        report.flags.append(
            f"{rec_id}: the film was interrupted and not sealed yet; "
            "vigkit office decrypt --salvage keeps every complete part"
        )
    elif state == "recovered":
        report.flags.append(
            f"{rec_id}: the film was interrupted and recovered; "
            f"the untouched original is {rec_id}.interrupted.mp4.age"
        )
    elif state == "empty":
        report.flags.append(
            f"{rec_id}: nothing was recorded (the kit stopped before the first picture); "
            "there is no film to open"
        )


def _check_audit(kit: KitFolder, report: KitReport) -> None:
    rows: dict[int, AuditRow] = {}
    sources: dict[int, str] = {}

    def take(row: AuditRow, where: str) -> None:
        if row.seq in rows and rows[row.seq] != row:
            report.problems.append(
                f"audit row {row.seq} differs between {sources[row.seq]} and {where}"
            )
            return
        rows[row.seq], sources[row.seq] = row, where

    if kit.audit_file is None:
        if any(AUDIT_NAME in line for line in kit.unreadable):
            return  # refused already, with the reason (its signature)
        report.problems.append(
            "audit.json is missing or not signed by the kit: the audit log cannot be checked"
        )
    else:
        try:
            kit_id, chain = parse_audit(kit.audit_file.read_bytes(), "audit.json")
        except (ArchiveError, OSError) as e:
            report.problems.append(str(e))
            kit_id, chain = kit.name, []
        if kit_id != kit.name:
            report.notes.append(f"audit.json belongs to {kit_id}, in a folder named {kit.name}")
        for row in chain:
            take(row, "audit.json")
    for manifest in kit.manifests.values():
        for row in manifest.audit:
            take(row, f"{manifest.recording}.manifest.json")
    ordered = [rows[s] for s in sorted(rows)]
    report.audit_rows = len(ordered)
    if ordered and kit.audit_file is not None:
        report.problems += verify_chain(ordered)


def check_headers(kit: KitFolder, report: KitReport) -> None:
    """Flag a film whose age header is not exactly the kit's two recipients (the office
    and the kit): one extra stanza is a stranger's key slipped into recipients.txt. Which
    key a stanza is for cannot be told without that key; the count and types can."""
    for manifest in kit.manifests.values():
        film = kit.file(f"{manifest.recording}.mp4.age")
        try:
            with film.open("rb") as f:
                header, _ = age.read_header(f)
        except (OSError, AgeError):
            continue  # missing or damaged: the size and hash checks say so
        types = [s.type for s in header.stanzas]
        if types != ["X25519"] * EXPECTED_RECIPIENTS:
            report.flags.append(
                f"{manifest.recording}: the film is encrypted to {len(types)} key(s) "
                f"({', '.join(types)}) where the office's and the kit's were expected: "
                "someone else may be able to open it"
            )
