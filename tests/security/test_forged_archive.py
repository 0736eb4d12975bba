"""Finding 3: the archive could be forged with the office's public key and write access.

The review encrypted new notes (consent given, review done) to the public keys every kit
holds, fixed the manifest's size and hash, appended a correctly chained audit row, and
``vigkit office verify`` said "complete and untouched". Replayed on an archive made by a
real ``vigkit sync``: without the office's register of kits it still passes (and says the
signatures were not checked); with the kit enrolled, verify names the forged manifest and
audit file, and serve and export leave the forged recording out. An unknown kit and an
unsigned manifest are refused in their own words.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from device import age
from device.library.audit import row_hash
from device.office.archive import KitFolder, open_archive
from device.office.kit_register import load_register
from device.office.recordings import ArchiveRecordings
from device.office.verify import KitReport, check_headers
from device.sync.manifest import parse_manifest
from tests.recording.conftest import vigkit
from tests.sync.conftest import KitFiles


def _enrol(archive: Path, kit: KitFiles, register: Path) -> str:
    (folder,) = archive.iterdir()
    public = (kit.data / "keys" / "kit-signing.pub").read_text().strip()
    vigkit("office", "kit", "add", folder.name, public, "--kits", register)
    return folder.name


def _forge(folder: Path, rec_id: str, kit: KitFiles) -> None:
    """What the review did: only public keys and write access to the archive."""
    recipients = age.parse_recipients((kit.data / "keys" / "recipients.txt").read_text())
    notes = {"version": 2, "consent": {"given": True}, "review": {"done": True,
             "reflections": "Invented."}, "marks": [], "clips": [], "stills": []}  # fmt: skip
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


def test_a_forged_archive_is_refused_once_the_kit_is_enrolled(
    archive: Path, kit: KitFiles, tmp_path: Path
) -> None:
    register = tmp_path / "office" / "vigkit-kits.txt"
    register.parent.mkdir()
    kit_id = _enrol(archive, kit, register)
    intact = vigkit("office", "verify", archive, "--kits", register, check=False)
    assert intact.returncode == 3 and "PROBLEM" not in intact.stdout, intact.stdout

    folder = archive / kit_id
    _forge(folder, kit.film, kit)
    unchecked = vigkit("office", "verify", archive, check=False)
    assert "complete and untouched" in unchecked.stdout  # the attack, without a register
    assert "signatures not checked" in unchecked.stdout

    checked = vigkit("office", "verify", archive, "--kits", register, check=False)
    print(checked.stdout)
    assert checked.returncode == 1
    assert f"{kit.film}.manifest.json does not carry its kit's signature" in checked.stdout
    assert "audit.json does not carry its kit's signature" in checked.stdout
    served = ArchiveRecordings(archive, load_register(register)).all()
    assert kit.film not in {r.id for r in served} and kit.copy in {r.id for r in served}
    (kept,) = open_archive(archive, load_register(register))
    assert kit.film not in kept.manifests  # export plans from these: the forgery is left out


def test_unknown_kits_and_unsigned_manifests_are_refused(
    archive: Path, kit: KitFiles, tmp_path: Path
) -> None:
    stranger = tmp_path / "vigkit-kits.txt"
    other = "vigkit-ed25519:" + "A" * 43 + "="
    vigkit("office", "kit", "add", "kit-00000000", other, "--kits", stranger)
    unknown = vigkit("office", "verify", archive, "--kits", stranger, check=False)
    assert unknown.returncode == 1
    assert "which is not in the office's register of kits" in unknown.stdout

    register = tmp_path / "office-kits.txt"
    (folder,) = archive.iterdir()
    _enrol(archive, kit, register)
    path = folder / f"{kit.copy}.manifest.json"
    doc = json.loads(path.read_text())
    del doc["signature"]
    path.write_text(json.dumps(doc))
    unsigned = vigkit("office", "verify", archive, "--kits", register, check=False)
    assert f"{kit.copy}.manifest.json is not signed by its kit" in unsigned.stdout


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
