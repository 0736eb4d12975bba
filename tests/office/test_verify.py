"""``vigkit office verify``: hashes against manifests, the audit chain, interrupted films.

The kit is enrolled in the office's register beside the office key (tests/sync/conftest.py);
a test that changes what the kit sent signs it with the kit's own key (``KitFiles.sends``),
so what is checked is the office's reading beyond the signature."""

from __future__ import annotations

import json
from pathlib import Path

from tests.recording.conftest import OfficeKey, vigkit
from tests.sync.conftest import KitFiles


def kit_folder(archive: Path) -> Path:
    (folder,) = archive.iterdir()
    return folder


def test_an_intact_archive_passes_and_flags_the_interrupted_film(
    archive: Path, kit: KitFiles, office_key: OfficeKey
) -> None:
    done = vigkit("office", "verify", archive, "--kits", office_key.kits, check=False)
    assert done.returncode == 3, done.stdout + done.stderr  # intact, with a flag
    assert "3 recording(s), 8 file(s) intact" in done.stdout  # 7 of the films, 1 case file
    assert f"FLAG: {kit.interrupted}: the film was interrupted" in done.stdout
    assert "PROBLEM" not in done.stdout
    assert "complete and untouched; some things need a look (see FLAG)" in done.stdout


def test_an_archive_without_interrupted_films_exits_0(
    archive: Path, kit: KitFiles, office_key: OfficeKey
) -> None:
    folder = kit_folder(archive)
    for p in folder.glob(f"{kit.interrupted}.*"):
        p.unlink()
    done = vigkit("office", "verify", folder, "--kits", office_key.kits, check=False)  # one kit
    assert done.returncode == 0, done.stdout
    assert "The archive is complete and untouched." in done.stdout


def test_damage_missing_files_and_a_changed_audit_row_are_named(
    archive: Path, kit: KitFiles, office_key: OfficeKey
) -> None:
    folder = kit_folder(archive)
    film = folder / f"{kit.copy}.mp4.age"
    data = bytearray(film.read_bytes())
    data[len(data) // 2] ^= 1
    film.write_bytes(bytes(data))
    (folder / f"{kit.film}.still-1.jpg.age").unlink()
    audit = json.loads((folder / "audit.json").read_text())
    audit["rows"][1]["event"] = "nothing happened"
    kit.sends(folder / "audit.json", audit)  # even signed, it must agree with the manifests
    done = vigkit("office", "verify", archive, "--kits", office_key.kits, check=False)
    assert done.returncode == 1
    assert f"PROBLEM: {kit.copy}.mp4.age differs from what the kit sent" in done.stdout
    assert f"PROBLEM: {kit.film}.still-1.jpg.age is missing" in done.stdout
    assert "PROBLEM: audit row 2 differs between audit.json and" in done.stdout
    assert "has problems" in done.stdout


def test_a_removed_audit_row_breaks_the_chain(
    archive: Path, kit: KitFiles, office_key: OfficeKey
) -> None:
    folder = kit_folder(archive)
    audit = json.loads((folder / "audit.json").read_text())
    del audit["rows"][1]
    kit.sends(folder / "audit.json", audit)  # even signed by the kit, the chain is checked
    for manifest in folder.glob("*.manifest.json"):  # the rows they carry go too
        doc = json.loads(manifest.read_text())
        doc["audit"] = [r for r in doc["audit"] if r["seq"] != 2]
        kit.sends(manifest, doc)
    done = vigkit("office", "verify", archive, "--kits", office_key.kits, check=False)
    assert done.returncode == 1
    assert "PROBLEM: audit row 3 does not follow the row before it" in done.stdout


def test_not_an_archive(tmp_path: Path, office_key: OfficeKey) -> None:
    done = vigkit("office", "verify", tmp_path, "--kits", office_key.kits, check=False)
    assert done.returncode == 1 and "holds no VIG Kit manifests" in done.stderr


def test_a_manifest_pointing_outside_its_folder_is_refused(
    archive: Path, office_key: OfficeKey
) -> None:
    """The office's tools build paths from a manifest's recording id and file names: a
    damaged or hand-made one must never lead outside the kit folder."""
    folder = kit_folder(archive)
    manifest = sorted(folder.glob("*.manifest.json"))[0]
    doc = json.loads(manifest.read_text())
    doc["files"][0]["name"] = "../../outside.mp4.age"
    manifest.write_text(json.dumps(doc))
    odd = folder / "20260101T000000Z-0bad.manifest.json"
    odd.write_text(json.dumps({**doc, "recording": "../../20260101T000000Z-0bad", "files": []}))
    done = vigkit("office", "verify", archive, "--kits", office_key.kits, check=False)
    assert done.returncode == 1
    assert "'../../outside.mp4.age' is not one of the recording's files" in done.stdout
    assert "'../../20260101T000000Z-0bad' is not a recording id" in done.stdout
