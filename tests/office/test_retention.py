"""The office applies the kits' erasures, against a real ``rclone serve sftp``: an erase
request carried by sync, an erase-by date that has come (fake clock), never early; every
removal in the office audit log; verify names erased recordings as erased; a dry run and a
second run change nothing; two runs never race."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from device import cases
from device.errors import ArchiveError
from device.library import Library, verify_chain
from device.office import office_audit
from device.office import retention as ret
from device.office.archive import open_archive
from device.office.kit_register import Register
from device.office.recordings import ArchiveRecordings, NotInArchive
from device.sync.erasures import ERASURES_NAME, parse_erasures
from tests.recording.conftest import OfficeKey, vigkit
from tests.sync.conftest import CASE, KitFiles, Server, sftp, sync

__all__ = ["sftp"]


def hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def synced(kit: KitFiles, server: Server) -> Path:
    done = sync(kit.write_config(server))
    assert done.returncode == 0, done.stderr
    (folder,) = [p for p in (server.disk / "vigkit").iterdir() if p.is_dir()]  # not the lock
    return folder


def test_an_erase_on_the_kit_is_applied_at_the_office(
    kit: KitFiles, sftp: Server, office_key: OfficeKey
) -> None:
    folder = synced(kit, sftp)
    assert not (folder / ERASURES_NAME).exists()  # nothing erased yet: no file
    lib = Library(kit.data)
    try:
        cases.erase_film(lib, cases.Registry(lib.index), kit.copy)
    finally:
        lib.close()
    folder = synced(kit, sftp)
    carried = (folder / ERASURES_NAME).read_text()
    assert kit.copy in carried and CASE not in carried and "take turns" not in carried
    archive = sftp.disk / "vigkit"
    before = hashes(archive)
    erased_files = {k for k in before if f"/{kit.copy}." in k and "manifest" not in k}
    assert erased_files

    dry = vigkit("office", "retention", archive, "--kits", office_key.kits, "--dry-run")
    assert dry.returncode == 0 and f"would remove {folder.name}/{kit.copy}" in dry.stdout
    assert (
        hashes(archive) == before and "1 recording(s) and 0 case(s) would be removed" in dry.stdout
    )

    run = vigkit("office", "retention", archive, "--kits", office_key.kits)
    assert run.returncode == 0, run.stderr
    assert f"removed {folder.name}/{kit.copy}" in run.stdout
    after = hashes(archive)
    new = {k for k in after if k not in before}
    assert {Path(k).name for k in new} == {office_audit.OFFICE_AUDIT_NAME, ret.LOCK_NAME}
    assert {k: v for k, v in after.items() if k not in new} == {
        k: v for k, v in before.items() if k not in erased_files
    }  # every other file's hash unchanged
    (row,) = office_audit.read_log(folder)
    assert row.recording == kit.copy and row.detail["reason"].startswith("erase request 1")
    assert sorted(row.detail["files"]) == sorted(Path(k).name for k in erased_files)

    check = vigkit("office", "verify", archive, "--kits", office_key.kits, check=False)
    assert check.returncode == 3, check.stdout  # intact; the interrupted film is flagged
    assert "PROBLEM" not in check.stdout
    assert f"ERASED: {kit.copy}: erased at the office on" in check.stdout

    again = vigkit("office", "retention", archive, "--kits", office_key.kits)
    assert again.returncode == 0 and "0 recording(s) and 0 case(s) removed" in again.stdout
    assert hashes(archive) == after

    folder = synced(kit, sftp)  # the request stays at the office; nothing else changes
    assert (folder / ERASURES_NAME).read_text() == carried
    assert hashes(archive) == after


def test_a_missing_recording_is_still_a_problem(
    kit: KitFiles, sftp: Server, office_key: OfficeKey
) -> None:
    folder = synced(kit, sftp)
    (folder / f"{kit.copy}.mp4.age").unlink()
    check = vigkit("office", "verify", sftp.disk / "vigkit", "--kits", office_key.kits, check=False)
    assert check.returncode == 1
    assert f"PROBLEM: {kit.copy}.mp4.age is missing" in check.stdout
    assert "ERASED" not in check.stdout


def test_an_erase_by_date_is_honoured_on_its_day_never_before(
    kit: KitFiles, sftp: Server, register: Register
) -> None:
    lib = Library(kit.data)
    try:
        lib.index.set_erase_by(kit.film, date(2030, 1, 15))
    finally:
        lib.close()
    folder = synced(kit, sftp)
    doc = json.loads((folder / ERASURES_NAME).read_text())
    assert {"recording": kit.film, "date": "2030-01-15"}.items() <= doc["erase_by"][0].items()
    archive = sftp.disk / "vigkit"
    before = hashes(archive)
    assert ret.plan(open_archive(archive, register), date(2030, 1, 14)) == []  # never early
    due = ret.plan(open_archive(archive, register), date(2030, 1, 15))
    assert [d.recording for d in due] == [kit.film]
    assert due[0].reason == "consent erase-by date 2030-01-15"
    clock = datetime(2030, 1, 15, 2, 0, tzinfo=UTC)
    outcome = ret.apply(due, lambda: clock)
    assert outcome.problems == [] and not list(folder.glob(f"{kit.film}.*.age"))
    assert (folder / f"{kit.film}.manifest.json").exists()  # ids and hashes: verify's evidence
    rows = office_audit.read_log(folder)
    assert [(r.recording, r.at) for r in rows] == [(kit.film, clock.isoformat())]
    assert verify_chain(rows) == []
    after = hashes(archive)
    assert {k: v for k, v in before.items() if k in after} == {
        k: v for k, v in after.items() if k in before
    }
    assert ret.plan(open_archive(archive, register), date(2030, 2, 1)) == []  # done: nothing twice


def test_a_changed_office_audit_log_shows_in_verify(
    kit: KitFiles, sftp: Server, office_key: OfficeKey
) -> None:
    lib = Library(kit.data)
    try:
        cases.erase_film(lib, cases.Registry(lib.index), kit.copy)
    finally:
        lib.close()
    folder = synced(kit, sftp)
    office_audit.append(folder, datetime.now(UTC), kit.copy, reason="test", files=[])
    log = folder / office_audit.OFFICE_AUDIT_NAME
    log.write_text(log.read_text().replace('"test"', '"edited"'))
    check = vigkit("office", "verify", sftp.disk / "vigkit", "--kits", office_key.kits, check=False)
    assert check.returncode == 1
    assert "office-audit.jsonl: audit row 1 was changed after it was written" in check.stdout


def test_two_runs_never_race(kit: KitFiles, sftp: Server, office_key: OfficeKey) -> None:
    synced(kit, sftp)
    archive = sftp.disk / "vigkit"
    with ret.ArchiveLock(archive):
        busy = vigkit("office", "retention", archive, "--kits", office_key.kits, check=False)
    assert busy.returncode == ret.BUSY
    assert "another retention run holds this archive" in busy.stderr
    assert "Traceback" not in busy.stderr


def test_a_hand_made_erasures_file_cannot_reach_outside_its_folder(
    kit: KitFiles, sftp: Server, office_key: OfficeKey
) -> None:
    folder = synced(kit, sftp)
    bad = {
        "format": "vigkit-erasures/1",
        "kit": folder.name,
        "requests": [
            {"seq": 1, "kind": "film", "case": "", "cycle": None,
             "recordings": ["../../etc"], "requested_at": "2026-11-28T09:00:00+00:00"}
        ],
        "erase_by": [],
    }  # fmt: skip
    kit.sends(folder / ERASURES_NAME, bad)  # even signed by the kit, its ids are checked
    before = hashes(sftp.disk)
    run = vigkit(
        "office", "retention", sftp.disk / "vigkit", "--kits", office_key.kits, check=False
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "erasures.json is damaged ('../../etc' is not a recording id)" in run.stderr
    assert {k: v for k, v in hashes(sftp.disk).items() if k in before} == before


@pytest.mark.parametrize(
    "rec_id",
    ["20261128T090000Z-0123456789ab/../../etc", "20261128T090000Z-abcd\n", "../../etc"],
)
def test_an_id_with_a_tail_is_not_a_recording_id(rec_id: str) -> None:
    """The whole text must be an id (fullmatch): a real id's prefix followed by a path
    would otherwise reach the office's glob for the recording's files."""
    doc = {
        "format": "vigkit-erasures/1",
        "kit": "kit",
        "requests": [],
        "erase_by": [{"recording": rec_id, "case": "x", "date": "2026-12-01"}],
    }
    with pytest.raises(ArchiveError, match="is not a recording id"):
        parse_erasures(json.dumps(doc).encode(), "erasures.json")


def test_the_office_page_no_longer_lists_an_erased_recording(
    archive: Path, register: Register
) -> None:
    (kit,) = open_archive(archive, register)
    rec_id = sorted(kit.manifests)[0]
    page = ArchiveRecordings(archive, register)
    assert rec_id in {r.id for r in page.all()}
    due = ret.Due(kit, rec_id, "test", ret.recording_files(kit, rec_id))
    assert ret.apply([due], lambda: datetime.now(UTC)).problems == []
    assert rec_id not in {r.id for r in page.all()}
    with pytest.raises(NotInArchive):
        page.get(kit.name, rec_id)
