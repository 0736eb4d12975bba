"""Finding 3: the archive could be forged with the office's public key and write access.

The review encrypted new notes (consent given, review done) to the public keys every kit
holds, fixed the manifest's size and hash, appended a correctly chained audit row, and
``vigkit office verify`` said "complete and untouched". Replayed on an archive made by a
real ``vigkit sync``, with the kit enrolled in the office's register beside the office
key (tests/sync/conftest.py): verify names the forged manifest and audit file, and serve,
export and annotations leave the forged recording out. An unknown kit and an unsigned
manifest are refused in their own words; no office command that trusts the archive runs
without the register. The same attacker's other files are refused too: a forged
``cases.json`` or case record (supervision's consent), a case file no signed listing
names, and an ``erasures.json`` that would have retention destroy the films.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from device import age
from device.cases import schema as case_schema
from device.errors import ArchiveError
from device.library.audit import row_hash
from device.office.archive import KitFolder, open_archive
from device.office.cases import ArchiveCases
from device.office.kit_register import load_register
from device.office.recordings import ArchiveRecordings, read_notes
from device.office.verify import KitReport, check_headers
from device.sync.manifest import parse_manifest
from tests.office.test_annotations import annotate, no_supervisor
from tests.office.test_serve import serve_cli
from tests.recording.conftest import OfficeKey, vigkit
from tests.sync.conftest import KitFiles


def _folder(archive: Path) -> Path:
    (folder,) = archive.iterdir()
    return folder


def _forge(folder: Path, rec_id: str, kit: KitFiles, marks: list[object] | None = None) -> None:
    """What the review did: only public keys and write access to the archive."""
    recipients = age.parse_recipients((kit.data / "keys" / "recipients.txt").read_text())
    notes = {"version": 2, "consent": {"given": True}, "review": {"done": True,
             "reflections": "Invented."}, "marks": marks or [], "clips": [],
             "stills": []}  # fmt: skip
    forged = age.encrypt_bytes(json.dumps(notes).encode(), recipients)
    (folder / f"{rec_id}.notes.age").write_bytes(forged)
    path = folder / f"{rec_id}.manifest.json"
    doc = json.loads(path.read_text())
    for entry in doc["files"]:
        if entry["name"] == f"{rec_id}.notes.age":
            entry["size"], entry["sha256"] = len(forged), hashlib.sha256(forged).hexdigest()
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    audit = json.loads((folder / "audit.json").read_text())
    last = audit["rows"][-1]
    at, detail = "2030-01-01T00:00:00+00:00", {}
    digest = row_hash(last["hash"], at, "review-done", rec_id, json.dumps(detail))
    audit["rows"].append({"seq": last["seq"] + 1, "at": at, "event": "review-done",
                          "recording": rec_id, "detail": detail, "prev": last["hash"],
                          "hash": digest})  # fmt: skip
    (folder / "audit.json").write_text(json.dumps(audit, indent=1, sort_keys=True) + "\n")


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_a_forged_archive_is_refused(archive: Path, kit: KitFiles, office_key: OfficeKey) -> None:
    intact = vigkit("office", "verify", archive, "--kits", office_key.kits, check=False)
    assert intact.returncode == 3 and "PROBLEM" not in intact.stdout, intact.stdout

    _forge(_folder(archive), kit.film, kit)
    checked = vigkit("office", "verify", archive, "--kits", office_key.kits, check=False)
    print(checked.stdout)
    assert checked.returncode == 1
    assert f"{kit.film}.manifest.json does not carry its kit's signature" in checked.stdout
    assert "audit.json does not carry its kit's signature" in checked.stdout
    served = ArchiveRecordings(archive, load_register(office_key.kits)).all()
    assert kit.film not in {r.id for r in served} and kit.copy in {r.id for r in served}
    (kept,) = open_archive(archive, load_register(office_key.kits))
    assert kit.film not in kept.manifests  # export plans from these: the forgery is left out


def test_forged_notes_under_the_kits_own_manifest_are_not_read(
    archive: Path, kit: KitFiles, office_key: OfficeKey, ram_dir: Path
) -> None:
    """The same forgery leaving the signed manifest as it was: the notes no longer match
    the SHA-256 the kit signed, so the page, export and annotations refuse them."""
    folder = _folder(archive)
    recipients = age.parse_recipients(office_key.public)
    invented = {"version": 2, "review": {"done": True, "reflections": "Invented."}}
    (folder / f"{kit.film}.notes.age").write_bytes(
        age.encrypt_bytes(json.dumps(invented).encode(), recipients)
    )
    rec = ArchiveRecordings(archive, load_register(office_key.kits)).get(folder.name, kit.film)
    with pytest.raises(ArchiveError, match="it is not the file the kit signed for"):
        read_notes(rec, age.load_identities(office_key.path))
    for args in (("export",), ("annotations", "--case", "F-0231")):
        done = vigkit("office", *args, archive, "-i", office_key.path, "-o", ram_dir / args[0],
                      check=False)  # fmt: skip
        assert done.returncode == 1, done.stdout
        assert f"{kit.film}.notes.age is damaged or was changed after the kit sent it" in (
            done.stderr
        )
        assert "Traceback" not in done.stderr
    assert "Invented" not in "".join(p.name for p in ram_dir.rglob("*"))


def test_no_office_command_trusts_an_archive_without_the_register(
    archive: Path, office_key: OfficeKey, tmp_path: Path
) -> None:
    """Without a register the forgery above would pass: every command that reads the
    archive refuses, says how to enrol the kits and where the file goes, writes nothing."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    key = elsewhere / "org.key"
    shutil.copyfile(office_key.path, key)  # the office key, with no register beside it
    before = _hashes(archive)
    out = tmp_path / "out"

    def case_export(name: str) -> tuple[str | Path, ...]:
        return ("office", name, archive, "-i", key, "--case", "F-0231", "-o", out)

    runs = {
        "verify": vigkit("office", "verify", archive, check=False),
        "retention": vigkit("office", "retention", archive, check=False),
        "export": vigkit("office", "export", archive, "-i", key, "-o", out, check=False),
        "annotations": vigkit(*case_export("annotations"), check=False),
        "supervision": vigkit(*case_export("supervision"), check=False),
        "serve": serve_cli(archive, "-i", key),
    }
    for name, done in runs.items():
        assert done.returncode == 1, (name, done.stdout, done.stderr)
        assert "register of kits was not found" in done.stderr, name
        assert "vigkit office kit add KIT-ID vigkit-ed25519:" in done.stderr, name
        assert "Traceback" not in done.stderr, name
    assert f"{elsewhere / 'vigkit-kits.txt'} (beside the office key)" in runs["export"].stderr
    assert "--kits FILE" in runs["verify"].stderr
    assert not out.exists()  # nothing written, not even the output folder
    assert _hashes(archive) == before  # nor in the archive (retention's lock file)


def test_unknown_kits_and_unsigned_manifests_are_refused(
    archive: Path, kit: KitFiles, office_key: OfficeKey, tmp_path: Path
) -> None:
    stranger = tmp_path / "vigkit-kits.txt"
    other = "vigkit-ed25519:" + "A" * 43 + "="
    vigkit("office", "kit", "add", "kit-00000000", other, "--kits", stranger)
    unknown = vigkit("office", "verify", archive, "--kits", stranger, check=False)
    assert unknown.returncode == 1
    assert "which is not in the office's register of kits" in unknown.stdout

    path = _folder(archive) / f"{kit.copy}.manifest.json"
    doc = json.loads(path.read_text())
    del doc["signature"]
    path.write_text(json.dumps(doc))
    unsigned = vigkit("office", "verify", archive, "--kits", office_key.kits, check=False)
    assert f"{kit.copy}.manifest.json is not signed by its kit" in unsigned.stdout


def test_forged_notes_stay_out_of_the_annotations(
    archive: Path, kit: KitFiles, office_key: OfficeKey, ram_dir: Path
) -> None:
    invented = {"id": "m9", "t": 1.0, "principles": ["Guiding"], "note": "Invented moment",
                "supervision": True, "source": "phone"}  # fmt: skip
    _forge(_folder(archive), kit.film, kit, marks=[invented])
    done = vigkit("office", "annotations", archive, "-i", office_key.path, "--case", "F-0231",
                  "-o", ram_dir / "research", check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"left out: {kit.film}.manifest.json does not carry its kit's signature" in done.stderr
    table = (ram_dir / "research" / "F-0231.csv").read_text(encoding="utf-8-sig")
    assert "Invented moment" not in table and kit.film not in table


def test_a_forged_case_record_gives_no_supervisors_consent(
    archive: Path, kit: KitFiles, office_key: OfficeKey, ram_dir: Path
) -> None:
    """The parent's consent has no supervisor (the kit sent it so); the attacker writes a
    case record saying yes, encrypted to the public keys, first alone, then with a
    ``cases.json`` that lists its hash (which the kit did not sign)."""
    folder = annotate(archive, kit, office_key)
    record = no_supervisor(folder, kit, office_key)
    pack = ("office", "supervision", archive, "-i", office_key.path, "--case", "F-0231")
    refused = vigkit(*pack, "-o", ram_dir / "1", check=False)
    assert refused.returncode == 1 and "does not include a supervisor" in refused.stderr

    ids = age.load_identities(office_key.path)
    doc = json.loads(age.decrypt_bytes(record.read_bytes(), ids))
    doc["consent"]["supervisor"] = True
    forged = age.encrypt_bytes(json.dumps(doc).encode(), age.parse_recipients(office_key.public))
    record.write_bytes(forged)
    alone = vigkit(*pack, "-o", ram_dir / "2", check=False)
    assert alone.returncode == 1 and "does not include a supervisor" in alone.stderr
    assert not (ram_dir / "2" / "supervision.html").exists()

    listing = json.loads((folder / "cases.json").read_text())
    listing["cases"][0].update(size=len(forged), sha256=hashlib.sha256(forged).hexdigest())
    (folder / "cases.json").write_text(json.dumps(listing, indent=1, sort_keys=True) + "\n")
    relisted = vigkit(*pack, "-o", ram_dir / "3", check=False)
    assert relisted.returncode == 1 and "does not include a supervisor" in relisted.stderr
    assert "left out: cases.json does not carry its kit's signature" in relisted.stderr
    assert not (ram_dir / "3" / "supervision.html").exists()
    checked = vigkit("office", "verify", archive, "--kits", office_key.kits, check=False)
    assert "PROBLEM: cases.json does not carry its kit's signature" in checked.stdout


def test_a_case_file_no_signed_listing_names_is_flagged_and_never_read(
    archive: Path, kit: KitFiles, office_key: OfficeKey
) -> None:
    folder = _folder(archive)
    ids = age.load_identities(office_key.path)
    (real,) = (folder / "cases").glob("*.age")
    doc = json.loads(age.decrypt_bytes(real.read_bytes(), ids))
    doc.update(id="case-0123456789ab", code="X-1")
    case_schema.case_from_doc(case_schema.upgrade(doc))  # a case record the office would read
    extra = folder / "cases" / "case-0123456789ab.age"
    recipients = age.parse_recipients(office_key.public)
    extra.write_bytes(age.encrypt_bytes(json.dumps(doc).encode(), recipients))
    checked = vigkit("office", "verify", archive, "--kits", office_key.kits, check=False)
    assert checked.returncode == 3, checked.stdout
    assert (
        "FLAG: cases/case-0123456789ab.age is not in the kit's signed cases.json" in checked.stdout
    )
    cases = ArchiveCases(ArchiveRecordings(archive, load_register(office_key.kits)), ids)
    assert {c.case.code for c in cases.all()[0]} == {"F-0231"}
    assert cases.by_code("X-1") == []


def test_a_forged_erasures_file_erases_nothing(
    archive: Path, kit: KitFiles, office_key: OfficeKey
) -> None:
    """Retention removes films on the word of ``erasures.json``: one the kit did not sign
    (an erase request, a case's erase-by date already past) removes nothing."""
    folder = _folder(archive)
    (real,) = (folder / "cases").glob("*.age")
    forged = {
        "format": "vigkit-erasures/1", "kit": folder.name,
        "requests": [{"seq": 1, "kind": "film", "case": real.stem, "cycle": 2,
                      "recordings": [kit.film], "requested_at": "2026-11-28T09:00:00+00:00"}],
        "erase_by": [{"recording": kit.copy, "case": real.stem, "date": "2026-01-01"}],
        "cases": [{"case": real.stem, "date": "2026-01-01"}],
    }  # fmt: skip
    (folder / "erasures.json").write_text(json.dumps(forged))
    assert date.fromisoformat("2026-01-01") < date.today()

    def kept() -> dict[str, str]:  # every file but the forgery and retention's lock file
        skip = ("lock", "/erasures.json")
        return {k: v for k, v in _hashes(archive).items() if not k.endswith(skip)}

    before = kept()
    run = vigkit("office", "retention", archive, "--kits", office_key.kits, check=False)
    print(run.stdout, run.stderr)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "PROBLEM: erasures.json is not signed by its kit" in run.stdout
    assert "0 recording(s) and 0 case(s) removed" in run.stdout
    assert kept() == before

    forged["signature"] = json.loads((folder / f"{kit.film}.manifest.json").read_text())[
        "signature"
    ]  # a real signature of the kit's, over another file
    (folder / "erasures.json").write_text(json.dumps(forged))
    again = vigkit("office", "retention", archive, "--kits", office_key.kits, check=False)
    assert "PROBLEM: erasures.json does not carry its kit's signature" in again.stdout
    assert kept() == before


def test_a_film_with_a_strangers_stanza_is_flagged(tmp_path: Path) -> None:
    """The office sees finding 4's film too: three stanzas where two were expected."""
    keys = [age.X25519Identity.generate().recipient() for _ in range(3)]
    rec_id = "20261121T103205Z-7f3a09c14be2"
    (tmp_path / f"{rec_id}.mp4.age").write_bytes(age.encrypt_bytes(b"film", keys))
    manifest = json.dumps({"format": "vigkit-manifest/1", "kit": "kit-1", "recording": rec_id,
                           "state": "complete", "files": []})  # fmt: skip
    folder = KitFolder(tmp_path, {rec_id: parse_manifest(manifest.encode(), "m")})
    report = KitReport("kit-1")
    check_headers(folder, report)
    assert report.flags and "encrypted to 3 key(s)" in report.flags[0]
