"""``vigkit office annotations`` and ``vigkit office supervision`` on a real synced archive.

The archive is the one a real ``vigkit sync`` made (tests/office/conftest.py); the film's
notes are then replaced by schema-3 notes (several principles, notes, supervision flags),
encrypted to the office key as the kit would send them at its next sync. The ELAN file is
read back by pympi-ling, a real EAF parser. Plain output goes to a folder in RAM.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import stat
from datetime import date
from pathlib import Path
from typing import Any

import pympi  # type: ignore[import-untyped]  # pympi-ling: the real ELAN parser

from device import age
from device.cases import schema as case_schema
from tests.office.test_export import ffprobe_ok
from tests.recording.conftest import OfficeKey, vigkit
from tests.sync.conftest import CASE, KitFiles

ATTENTIVE, GUIDING = "Being attentive", "Guiding"
NOTE = 'He offers the cup; she smiles back, "yes" & <waits>.'
NOTES: dict[str, Any] = {
    "version": 3, "revision": 9, "next_id": 6,
    "case": {"code": CASE, "cycle": 2, "question": "How do we take turns?", "notes": ""},
    "consent": None,
    "marks": [
        {"id": "m1", "t": 1.0334, "principles": [ATTENTIVE, GUIDING], "note": NOTE,
         "supervision": True, "source": "phone"},
        {"id": "m2", "t": 2.5, "principles": [GUIDING], "note": "Waits for her turn",
         "supervision": False, "source": "phone"},
        {"id": "m3", "t": 4.9, "principles": [], "note": "", "supervision": False,
         "source": "phone"},
    ],
    "clips": [
        {"id": "c4", "in": 1.0334, "out": 3.0667, "name": "Taking turns with the blocks",
         "order": 1, "principles": [GUIDING, ATTENTIVE], "supervision": True, "mark": "m1",
         "file": "clip-1.mp4", "exact": False, "exported_in": 1.0334, "exported_out": 3.0667},
        {"id": "c5", "in": 3.5, "out": 5.0, "name": "Not exported yet", "order": 2,
         "principles": [GUIDING], "supervision": True, "mark": None, "file": None,
         "exact": False, "exported_in": None, "exported_out": None},
    ],
    "stills": [], "dismissed": [], "removed": [],
    "review": {"done": False, "reflections": ""},
}  # fmt: skip
# (kind, start ms, end ms, principles, text, supervision) as the CSV must say them; a mark
# runs from its t to the tap 3 s later, or to the film's end.
ROWS = [
    ("mark", 1033, 4033, [ATTENTIVE, GUIDING], NOTE, True),
    ("clip", 1033, 3067, [GUIDING, ATTENTIVE], "Taking turns with the blocks", True),
    ("mark", 2500, 5500, [GUIDING], "Waits for her turn", False),
    ("clip", 3500, 5000, [GUIDING], "Not exported yet", True),
]


def annotate(archive: Path, kit: KitFiles, office_key: OfficeKey, *, filed: bool = False) -> Path:
    """The kit's newer notes and its case record in the archive, with the manifest and
    ``cases.json`` the kit signs for them; the kit folder. Filed: as a kit with cases
    syncs its films, the film's case and cycle only in ``cases.json`` (its notes name
    none); else as a film from before cases, named by its notes."""
    (folder,) = (p.parent for p in archive.rglob(f"{kit.film}.manifest.json"))
    recipients = age.parse_recipients(office_key.public)
    notes = {**NOTES, "case": {"code": "", "cycle": None, "question": "", "notes": ""}}
    data = json.dumps(notes if filed else NOTES).encode()
    sealed = age.encrypt_bytes(data, recipients)
    (folder / f"{kit.film}.notes.age").write_bytes(sealed)
    manifest = folder / f"{kit.film}.manifest.json"  # and the manifest the kit signs with it
    doc = json.loads(manifest.read_text())
    for entry in doc["files"]:
        if entry["name"] == f"{kit.film}.notes.age":
            entry["size"], entry["sha256"] = len(sealed), hashlib.sha256(sealed).hexdigest()
    kit.sends(manifest, doc)
    # Case records reach the office with the sync of issue #14; put here as it sends them
    shutil.copytree(kit.data / "cases", folder / "cases", dirs_exist_ok=True)
    if filed:
        (record,) = (folder / "cases").glob("*.age")
        case = {"case": record.stem, "size": record.stat().st_size,
                "sha256": hashlib.sha256(record.read_bytes()).hexdigest(),
                "films": [{"recording": kit.film, "cycle": 2}]}  # fmt: skip
        listing = {"format": "vigkit-cases/1", "kit": folder.name, "cases": [case]}
        kit.sends(folder / "cases.json", listing)
    return folder


def test_annotations_round_trip_through_elan(
    archive: Path, kit: KitFiles, office_key: OfficeKey, ram_dir: Path
) -> None:
    annotate(archive, kit, office_key, filed=True)
    out = ram_dir / "research"
    done = vigkit("office", "annotations", archive, "-i", office_key.path, "--case", "f-0231",
                  "--out", out)  # fmt: skip
    assert "1 ELAN file(s)" in done.stdout
    eaf_path = out / f"{CASE}_cycle-2_{kit.film}.eaf"
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{CASE}.csv", eaf_path.name])
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path

    with (out / f"{CASE}.csv").open(newline="", encoding="utf-8-sig") as f:
        table = list(csv.DictReader(f))
    m3 = table.pop(-1)  # the last moment is cut at the film's end (about 6 s)
    assert (m3["kind"], m3["start_ms"], m3["principles"]) == ("mark", "4900", "")
    assert 5900 <= int(m3["end_ms"]) < 7900
    got = [(r["kind"], int(r["start_ms"]), int(r["end_ms"]), r["principles"].split("; "),
            r["text"], r["supervision"] == "yes") for r in table]  # fmt: skip
    assert got == ROWS
    assert {(r["film"], r["cycle"]) for r in table} == {(kit.film, "2")}

    eaf = pympi.Elan.Eaf(str(eaf_path))
    tiers: dict[str, set[tuple[int, int, str]]] = {}
    for tier in eaf.get_tier_names():
        principle = tier.removesuffix(" [2]").removesuffix(" (clips)")
        tiers.setdefault(principle, set()).update(eaf.get_annotation_data_for_tier(tier))
    want: dict[str, set[tuple[int, int, str]]] = {}
    for _, start, end, principles, text, _ in ROWS:
        for p in principles:
            want.setdefault(p, set()).add((start, end, text))
    want["No principle"] = {(4900, int(m3["end_ms"]), "")}
    assert tiers == want
    # overlapping moments of one principle are on two tiers, never one
    assert {GUIDING, f"{GUIDING} [2]", f"{GUIDING} (clips)"} <= set(eaf.get_tier_names())
    assert eaf.get_properties()[:3] == [
        ("vigkit:case", CASE),
        ("vigkit:cycle", "2"),
        ("vigkit:question", "How do we take turns?"),
    ]  # from the case record: the film's own notes name no case
    (media,) = eaf.get_linked_files()
    assert (
        media["RELATIVE_MEDIA_URL"] == f"./{kit.film}.mp4"
        and not (out / media["MEDIA_URL"]).exists()
    )

    unknown = vigkit("office", "annotations", archive, "-i", office_key.path, "--case", "X-9",
                     "--out", ram_dir / "x", check=False)  # fmt: skip
    assert unknown.returncode == 1 and "there is no case X-9" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def no_supervisor(folder: Path, kit: KitFiles, office_key: OfficeKey) -> Path:
    """The case's consent changed on the kit: no supervisor any more (its record, and the
    kit's signed cases.json that lists it)."""
    (record,) = (folder / "cases").glob("*.age")
    doc = json.loads(age.decrypt_bytes(record.read_bytes(), age.load_identities(office_key.path)))
    doc["consent"]["supervisor"] = False
    recipients = age.parse_recipients(office_key.public)
    record.write_bytes(age.encrypt_bytes(json.dumps(doc).encode(), recipients))
    kit.lists_cases(folder)
    return record


def said_in_review(folder: Path, kit: KitFiles, office_key: OfficeKey, at: str, text: str) -> None:
    """The parent's words about a moment in cycle 2's shared review, in the case record."""
    (record,) = (folder / "cases").glob("*.age")
    doc = json.loads(age.decrypt_bytes(record.read_bytes(), age.load_identities(office_key.path)))
    case_schema.ensure_cycles(doc, 2, date.today())
    op = {"op": "reflect", "cycle": 2, "moments": [{"at": at, "prompt": "", "text": text}]}
    case_schema.apply_op(doc, op, date.today())
    recipients = age.parse_recipients(office_key.public)
    record.write_bytes(age.encrypt_bytes(json.dumps(doc).encode(), recipients))
    kit.lists_cases(folder)


def test_supervision_pack_only_while_consent_includes_a_supervisor(
    archive: Path, kit: KitFiles, office_key: OfficeKey, ram_dir: Path
) -> None:
    folder = annotate(archive, kit, office_key)
    said_in_review(folder, kit, office_key, f"{kit.film}/c4", "We waited & took turns.")
    # A second kit's folder with the same case, whose consent no longer has a supervisor
    other = folder.with_name("kit-other")
    shutil.copytree(folder, other)
    no_supervisor(other, kit, office_key)
    out = ram_dir / "pack"
    done = vigkit("office", "supervision", archive, "-i", office_key.path, "--case", CASE,
                  "-o", out)  # fmt: skip
    assert "1 clip(s) from 1 film(s)" in done.stdout
    # sync files all three of the template's films in the case (cases.json): the other
    # kit folder's three are left out
    (left,) = [line for line in done.stdout.splitlines() if line.startswith("Left out")]
    assert left.startswith("Left out 3 film(s) whose case's consent does not include a super")
    assert all(rec in left for rec in (kit.film, kit.copy, kit.interrupted))
    clip = out / f"{CASE}_cycle-2_{kit.film}" / "clip-01-Taking-turns-with-the-blocks.mp4"
    assert ffprobe_ok(clip) == "h264"
    assert stat.S_IMODE(clip.stat().st_mode) == 0o600
    assert stat.S_IMODE(clip.parent.stat().st_mode) == 0o700
    sheet = (out / "supervision.html").read_text()
    assert stat.S_IMODE((out / "supervision.html").stat().st_mode) == 0o600
    escaped = "He offers the cup; she smiles back, &quot;yes&quot; &amp; &lt;waits&gt;."
    for text in ("How do we take turns?", "Taking turns with the blocks", escaped,
                 "Guiding, Being attentive", "0:01–0:03", "Not exported yet",
                 "not exported on the kit", "0:01 · Being attentive, Guiding",
                 "We waited &amp; took turns."):  # fmt: skip
        assert text in sheet, text
    assert "Waits for her turn" not in sheet  # not flagged

    # The parent's consent changes on the first kit too: checked again, nothing shown
    record = no_supervisor(folder, kit, office_key)
    refused = vigkit("office", "supervision", archive, "-i", office_key.path, "--case", CASE,
                     "-o", ram_dir / "again", check=False)  # fmt: skip
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert (
        "does not include a supervisor watching, so no supervision pack was made" in refused.stderr
    )
    assert not (ram_dir / "again").exists() or not any((ram_dir / "again").iterdir())

    record.unlink()  # no record of the case at all: its consent is unknown, nothing shown
    shutil.rmtree(other)
    unknown = vigkit("office", "supervision", archive, "-i", office_key.path, "--case", CASE,
                     "-o", ram_dir / "again", check=False)  # fmt: skip
    assert unknown.returncode == 1 and "does not include a supervisor" in unknown.stderr
