"""A family's case at the office, against a real ``rclone serve sftp``: the case record
synced (encrypted as it is; no code or question in any plain file; an Unassigned film
never sent), the office's case view with both cycles, their clips, stills, questions and
reflections and the comments, ``office export --case`` writing the journey (0600), a
film erased on the kit removed by ``office retention``, and the case's erase-by date
(fake clock) removing the case."""

from __future__ import annotations

import json
import re
import stat
from datetime import UTC, date, datetime
from pathlib import Path

from device import age
from device.cases import CaseStore, Registry, erase_case, erase_film
from device.library import Library, State
from device.office import office_audit
from device.office import retention as ret
from device.office.archive import open_archive
from device.office.kit_register import Register
from tests.office.test_retention import hashes, synced
from tests.office.test_serve import csrf, enter, make_app
from tests.recording.conftest import OfficeKey, vigkit
from tests.sync.conftest import CASE, KitFiles, Server, sftp

__all__ = ["sftp"]

FIRST_Q = "How do we take turns?"
SECOND_Q = "How do we wait for each other?"
CONSENT = {"given_on": "2026-11-02", "practitioner": True, "supervisor": True,
           "training": False, "stops_on_request": True}  # fmt: skip


def _notes(clip: str, reflections: str) -> dict[str, object]:
    return {
        "version": 2, "revision": 1, "next_id": 3,
        "case": {"code": "", "cycle": None, "question": "", "notes": ""},
        "consent": None, "marks": [], "stills": [], "dismissed": [],
        "clips": [{"id": "c1", "name": clip, "principle": "Being attentive",
                   "in": 0.5, "out": 2.0, "order": 1, "file": "clip-1.mp4"}],
        "review": {"done": True, "reflections": reflections},
    }  # fmt: skip


def two_cycles(kit: KitFiles, office_key: OfficeKey) -> str:
    """The template's case, its copy film moved to cycle 1 with a clip and reflections,
    cycle 2 refined with a new wording; the case's id."""
    lib = Library(kit.data)
    try:
        ids = age.load_identities(office_key.path)
        recipients = age.parse_recipients((kit.data / "keys" / "recipients.txt").read_text())
        store = CaseStore(lib)
        case = store.find_by_code(CASE, ids)
        assert case is not None
        store.registry.assign(kit.copy, case.id, 1)
        store.new_cycle(case.id, SECOND_Q, ids, recipients)
        said = {"at": f"{kit.copy}/c1", "prompt": "What helped?", "text": "Waiting for him."}
        review = {"op": "reflect", "cycle": 1, "moments": [said], "closing": "We share more."}
        store.apply(case.id, [review], ids, recipients)  # the cycle's shared review
        rec = lib.data.recordings
        clip = (rec / f"{kit.film}.clip-1.mp4.age").read_bytes()
        (rec / f"{kit.copy}.clip-1.mp4.age").write_bytes(clip)
        film = json.loads(age.decrypt_bytes((rec / f"{kit.film}.notes.age").read_bytes(), ids))
        film["review"] = {"done": True, "reflections": "We laughed."}
        copy = _notes("Waiting for a turn", "He looked at me and waited.")
        for rec_id, doc in ((kit.film, film), (kit.copy, copy)):
            (rec / f"{rec_id}.notes.age").write_bytes(
                age.encrypt_bytes(json.dumps(doc).encode(), recipients)
            )
        held = kit.film[:-4] + "cafe"  # a film the button filmed into Unassigned
        lib.index.add(held, "2026-11-21T11:00:00+00:00", 0, False)
        (rec / f"{held}.mp4.age").write_bytes((rec / f"{kit.film}.mp4.age").read_bytes())
        lib.index.update(held, state=State.COMPLETE, duration_s=6.0, held=1)
        return case.id
    finally:
        lib.close()


def test_a_case_journey_at_the_office(
    kit: KitFiles, sftp: Server, office_key: OfficeKey, ram_dir: Path, register: Register
) -> None:
    case_id = two_cycles(kit, office_key)
    folder = synced(kit, sftp)
    archive = sftp.disk / "vigkit"
    case_file = folder / "cases" / f"{case_id}.age"
    first = case_file.read_bytes()
    assert first == (kit.data / "cases" / f"{case_id}.age").read_bytes()
    listing = json.loads((folder / "cases.json").read_text())
    assert {(f["recording"], f["cycle"]) for f in listing["cases"][0]["films"]} == {
        (kit.copy, 1),
        (kit.film, 2),
        (kit.interrupted, 2),
    }
    assert not list(archive.rglob(f"*{kit.film[:-4]}cafe*"))  # Unassigned: never synced
    assert "cafe" not in (folder / "cases.json").read_text()
    for plain in (p for p in archive.rglob("*") if p.is_file() and p.suffix != ".age"):
        text = plain.read_text()
        assert CASE not in text and "take turns" not in text and "wait for" not in text, plain

    # the office's case list and the read-only case view, with a comment on a film
    app = make_app(archive, office_key)
    try:
        with app.test_client() as client:
            enter(client)
            listed = client.get("/cases")
            assert listed.status_code == 200 and f"Case {CASE} · cycle 2" in listed.text
            film_page = f"/recordings/{folder.name}/{kit.copy}"
            said = {"text": "Look at his face here", "csrf_token": csrf(client, film_page)}
            assert client.post(f"{film_page}/comments", data=said).status_code == 303
            page = client.get(f"/cases/{folder.name}/{case_id}")
            assert page.status_code == 200, page.text
            one = page.text.split('id="cycle-1"')[1]
            two = page.text.split('id="cycle-2"')[1].split('id="cycle-1"')[0]
            assert FIRST_Q in one and "Waiting for a turn" in one and "He looked at me" in one
            assert "Waiting for him." in one and "We share more." in one  # the case's review
            assert "Look at his face here" in one and 'class="length">0:01<' in one  # the clip
            assert (
                SECOND_Q in two and "How the question was worded before" in two and FIRST_Q in two
            )
            assert "Taking turns with the blocks" in two and "We laughed." in two
            still = re.search(r'<img src="([^"]+)" alt="Looking up – a smile"', two)
            assert still is not None  # the still, served from the archive
            assert client.get(still.group(1)).data[:3] == b"\xff\xd8\xff"
            assert "<form" not in page.text  # read-only: comments are added on the film's page
            assert client.get(f"/cases/{folder.name}/case-000000000000").status_code == 404
            assert client.get(f"/cases/{folder.name}/..%2Fcases").status_code == 404
    finally:
        app.close()

    # export --case: the journey, every file owner-only
    out = ram_dir / "journey"
    done = vigkit("office", "export", archive, "-i", office_key.path, "--case", CASE, "-o", out)
    assert "Exported 3 file(s) from 3 recording(s)" in done.stdout, done.stdout
    assert (out / f"{CASE}_cycle-1_{kit.copy}" / "clip-01-Waiting-for-a-turn.mp4").is_file()
    sheet = (out / "contact-sheet.html").read_text()
    for text in (f"{CASE}, cycle 1", f"{CASE}, cycle 2", SECOND_Q, "He looked at me",
                 "Earlier wording (2026-", "We laughed."):  # fmt: skip
        assert text in sheet, text
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) == 5 and {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o600}

    # a film erased on the kit is removed at the office, and leaves the case view
    lib = Library(kit.data)
    try:
        erase_film(lib, Registry(lib.index), kit.interrupted)
    finally:
        lib.close()
    folder = synced(kit, sftp)
    before = hashes(archive)
    run = vigkit("office", "retention", archive, "--kits", office_key.kits)
    assert f"removed {folder.name}/{kit.interrupted}" in run.stdout
    after = hashes(archive)
    gone = {k for k in before if k not in after}
    assert gone and all(f"/{kit.interrupted}." in k for k in gone)
    assert {k: v for k, v in after.items() if k in before} == {
        k: v for k, v in before.items() if k not in gone
    }  # every other file's hash unchanged
    check = vigkit("office", "verify", archive, "--kits", office_key.kits)
    assert check.returncode == 0 and f"ERASED: {kit.interrupted}" in check.stdout
    listing = json.loads((folder / "cases.json").read_text())
    assert kit.interrupted not in {f["recording"] for f in listing["cases"][0]["films"]}

    # the case's erase-by date: never early, then the case goes with its films
    lib = Library(kit.data)
    try:
        ids = age.load_identities(office_key.path)
        recipients = age.parse_recipients((kit.data / "keys" / "recipients.txt").read_text())
        op = {"op": "consent", "consent": {**CONSENT, "erase_on": "2030-01-15"}}
        CaseStore(lib).apply(case_id, [op], ids, recipients)
    finally:
        lib.close()
    folder = synced(kit, sftp)
    assert case_file.read_bytes() != first  # the changed case was sent again, verified
    assert case_file.read_bytes() == (kit.data / "cases" / f"{case_id}.age").read_bytes()
    carried = json.loads((folder / "erasures.json").read_text())
    assert carried["cases"] == [{"case": case_id, "date": "2030-01-15"}]
    assert ret.plan(open_archive(archive, register), date(2030, 1, 14)) == []
    due = ret.plan(open_archive(archive, register), date(2030, 1, 15))
    assert {(d.recording, d.kind) for d in due} == {
        (kit.film, "recording"),
        (kit.copy, "recording"),
        (case_id, "case"),
    }
    clock = datetime(2030, 1, 15, 2, 0, tzinfo=UTC)
    assert ret.apply(due, lambda: clock).problems == []
    assert not case_file.exists()
    rows = office_audit.read_log(folder)
    (row,) = [r for r in rows if r.recording == case_id]
    assert (
        row.detail["kind"] == "case" and row.detail["reason"] == "consent erase-by date 2030-01-15"
    )
    check = vigkit("office", "verify", archive, "--kits", office_key.kits)
    assert check.returncode == 0 and f"ERASED: case {case_id}" in check.stdout
    app = make_app(archive, office_key)
    try:
        with app.test_client() as client:
            enter(client)
            assert "No case has arrived" in client.get("/cases").text
            assert client.get(f"/cases/{folder.name}/{case_id}").status_code == 404
    finally:
        app.close()


def test_a_case_erased_on_the_kit_is_removed_at_the_office(
    kit: KitFiles, sftp: Server, office_key: OfficeKey
) -> None:
    folder = synced(kit, sftp)
    (case_file,) = (folder / "cases").glob("*.age")
    lib = Library(kit.data)
    try:
        ids = age.load_identities(office_key.path)
        store = CaseStore(lib)
        case = store.find_by_code(CASE, ids)
        assert case is not None
        erase_case(store, case.id, CASE, ids)
    finally:
        lib.close()
    folder = synced(kit, sftp)
    assert json.loads((folder / "cases.json").read_text())["cases"] == []
    archive = sftp.disk / "vigkit"
    before = hashes(archive)
    run = vigkit("office", "retention", archive, "--kits", office_key.kits)
    assert "3 recording(s) and 1 case(s) removed" in run.stdout
    assert not case_file.exists()
    (row,) = [r for r in office_audit.read_log(folder) if r.recording == case.id]
    assert row.detail["kind"] == "case" and row.detail["files"] == [f"cases/{case_file.name}"]
    assert row.detail["reason"].startswith("erase request 1 from the kit (case, ")
    after = hashes(archive)
    assert {k: v for k, v in after.items() if k in before and "/cases/" not in k} == {
        k: v for k, v in before.items() if k in after and "/cases/" not in k
    }
    check = vigkit("office", "verify", archive, "--kits", office_key.kits)
    assert check.returncode == 0 and "PROBLEM" not in check.stdout
