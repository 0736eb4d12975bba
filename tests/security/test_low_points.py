"""Finding 7 of issue #17, each point replayed as the review made it.

- a locked browser polled ``/status`` and heard the room (the sound level) and saw when
  filming started;
- any ``Host`` was accepted, so a web page elsewhere could rebind its name to the kit;
- ``office export`` built a path from the notes' ``file`` field, so forged notes exported
  any org-key file outside the archive;
- a NUL byte in a manifest's file name crashed ``office verify`` and the office page;
- the contact sheet (stills, captions, notes) was written 0644 while clips are 0600;
- a request without ``Range`` held a worker thread for a whole film, as many as asked;
- deeply nested JSON gave a 500 (RecursionError);
- ids were checked with ``match`` and ``$`` (a trailing newline passed).
"""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Response, request

from device import age
from device.library import sha256_file
from device.library.layout import is_recording_id
from device.library.notes_schema import upgrade
from device.library.signing import signed_json
from device.office import contact_sheet
from device.office.archive import KitFolder, open_archive
from device.office.export import plan
from device.office.kit_register import Register
from device.office.recordings import ArchiveRecordings
from device.office.verify import verify
from device.sync.manifest import Entry, Manifest
from tests.security.live_kit import kit_app
from tests.web.web_helpers import PASSPHRASE, csrf, wait_until
from web.common.limits import WHOLE_FILES_AT_ONCE
from web.common.page import PageApp
from web.common.ranges import serve_file_like
from web.common.security import host_allowed
from web.kit.status import LOCKED
from web.office import Gate, create_office_app

REC = "20261102T101500Z-abcd"


def test_a_locked_browser_learns_nothing_of_the_room(tmp_path: Path) -> None:
    with kit_app(tmp_path) as app:
        recorder = app.services.kit.recorder
        stranger, practitioner = app.test_client(), app.test_client()
        practitioner.post(
            "/unlock", data={"passphrase": PASSPHRASE, "csrf_token": csrf(practitioner)}
        )
        recorder.start()
        try:
            wait_until(lambda: practitioner.get("/status").get_json()["level_dbfs"] is not None)
            seen = practitioner.get("/status").get_json()
            told = stranger.get("/status").get_json()
            page = stranger.get("/unlock").get_data(as_text=True)
        finally:
            recorder.stop()
            assert recorder.wait(30)
    print(f"\nthe practitioner sees {seen['state']} at {seen['level_dbfs']} dBFS; a locked "
          f"browser is told {told}")  # fmt: skip
    assert seen["state"] == "recording"
    assert told == LOCKED and told["level_dbfs"] is None and told["elapsed_s"] is None
    assert "Recording" not in page and "Locked" in page


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("vigkit.lan", True),
        ("kit.lan:8080", True),
        ("10.42.0.1", True),
        ("[::1]:8080", True),
        ("localhost:5000", True),
        ("laptop.local", True),
        ("raspberrypi:8080", True),
        ("attacker.example", False),
        ("vigkit.lan.attacker.example", False),
        ("attacker.example#.lan", False),
        ("10.42.0.1.nip.io", False),
        ("", False),
        ("vigkit.lan:port", False),
    ],
)
def test_which_host_names_reach_the_page(host: str, allowed: bool) -> None:
    assert host_allowed(host) is allowed


def test_dns_rebinding_is_refused_but_the_phones_probes_answer(tmp_path: Path) -> None:
    with kit_app(tmp_path) as app:
        client = app.test_client()
        assert client.post(
            "/unlock", data={"passphrase": PASSPHRASE, "csrf_token": csrf(client)}
        ).status_code == 302  # fmt: skip
        rebound = client.get("/status", headers={"Host": "attacker.example"})
        page = client.get("/", headers={"Host": "attacker.example", "Accept": "text/html"})
        ours = client.get("/status", headers={"Host": "vigkit.lan"})
        probe = client.get("/generate_204", headers={"Host": "connectivitycheck.gstatic.com"})
    assert rebound.status_code == 421 and "kit's own address" in rebound.get_json()["error"]
    assert page.status_code == 421 and "vigkit.lan" in page.get_data(as_text=True)
    assert ours.status_code == 200 and "state" in ours.get_json()
    assert probe.status_code == 204


def _encrypt_to(path: Path, data: bytes, office: age.X25519Identity) -> None:
    path.write_bytes(age.encrypt_bytes(data, [office.recipient()]))


def test_forged_notes_cannot_export_a_file_outside_the_archive(tmp_path: Path) -> None:
    office = age.X25519Identity.generate()
    folder = tmp_path / "archive" / "kit-1"
    folder.mkdir(parents=True)
    _encrypt_to(tmp_path / "outside.age", b"the office's own secret", office)
    (folder / f"{REC}.").mkdir()  # so that "<id>./../../../outside.age" is real
    _encrypt_to(folder / f"{REC}.clip-1.mp4.age", b"a real clip", office)
    notes = upgrade(None)
    notes["case"]["code"] = "F-0231"
    notes["clips"] = [
        {"id": "c1", "file": "/../../../outside", "order": 1, "in": 0, "out": 1},
        {"id": "c2", "file": "clip-1.mp4", "order": 2, "in": 0, "out": 1},
    ]
    _encrypt_to(folder / f"{REC}.notes.age", json.dumps(notes).encode(), office)
    assert (folder / f"{REC}./../../../outside.age").is_file()  # the attack's path is real
    listed = tuple(  # as the kit's signed manifest lists its own files
        Entry(p.name, p.stat().st_size, sha256_file(p)) for p in folder.glob(f"{REC}.*.age")
    )
    kit = KitFolder(folder, {REC: Manifest("kit-1", REC, "complete", 1.0, listed, (), "")})
    planned = plan([kit], [office], None)
    sources = [item.source for rec in planned for item in rec.items]
    assert sources == [folder / f"{REC}.clip-1.mp4.age"]  # the real clip, and only that


def _nul_archive(root: Path) -> tuple[Path, Register]:
    """A kit folder with a manifest naming a file with a NUL, beside a good one its
    enrolled kit signed (the NUL is refused before any signature is looked at)."""
    key = Ed25519PrivateKey.generate()
    register = Register(root.parent / "vigkit-kits.txt", {"kit-1": key.public_key()})
    folder = root / "kit-1"
    folder.mkdir(parents=True)
    manifest = {
        "format": "vigkit-manifest/1", "kit": "kit-1", "recording": REC, "state": "complete",
        "duration_s": 1.0, "audit": [], "written_at": "",
        "files": [{"name": f"{REC}.mp4\x00.age", "size": 1, "sha256": "0" * 64}],
    }  # fmt: skip
    (folder / f"{REC}.manifest.json").write_text(json.dumps(manifest))
    good = {**manifest, "recording": "20261102T111500Z-beef", "files": []}
    (folder / "20261102T111500Z-beef.manifest.json").write_bytes(signed_json(good, key))
    return root, register


def test_a_nul_byte_in_a_manifest_is_a_sentence_not_a_crash(tmp_path: Path) -> None:
    root, register = _nul_archive(tmp_path / "archive")
    report = verify(open_archive(root, register))
    problems = [p for k in report.kits for p in k.problems]
    print(f"\noffice verify says: {problems}")
    assert any("is not one of the recording's files" in p and "\\x00" in p for p in problems)
    code = "the-access-code"
    recordings = ArchiveRecordings(root, register)
    app = create_office_app(recordings, [age.X25519Identity.generate()], Gate(code))
    with app.test_client() as client:
        assert client.get(f"/?token={code}").status_code == 302
        listing = client.get("/")
    assert listing.status_code == 200


def test_the_contact_sheet_is_as_private_as_the_clips(tmp_path: Path) -> None:
    paths = [contact_sheet.write_html([], tmp_path), contact_sheet.write_pdf([], tmp_path)]
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in paths}
    assert modes == {"contact-sheet.html": 0o600, "contact-sheet.pdf": 0o600}


def test_deeply_nested_json_is_a_400_with_a_sentence(tmp_path: Path) -> None:
    with kit_app(tmp_path) as app:
        client = app.test_client()
        client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf_token": csrf(client)})
        headers = {"X-CSRF-Token": csrf(client, "/"), "Accept": "application/json"}
        answers = [
            client.post("/cases", data=body, headers=headers, content_type="application/json")
            for body in ("[" * 50_000, '{"a":' * 40 + "1" + "}" * 40)
        ]
    for answer in answers:
        assert answer.status_code == 400, answer.get_data(as_text=True)
        assert "nested more than 32 levels" in answer.get_json()["error"]


def test_ids_are_checked_whole() -> None:
    assert is_recording_id(REC)
    assert not is_recording_id(REC + "\n")
    assert not is_recording_id(REC + "/../x")


def test_whole_films_without_range_hold_at_most_two_workers() -> None:
    """A script asking for whole films (no Range) ties up two workers at most; the
    players' ranges still answer, and a slot comes back once an answer is done."""
    app = PageApp(cookie_name="t", max_form_bytes=1024, title="t")

    @app.get("/film.mp4")
    def film() -> Response:
        return serve_file_like(request, io.BytesIO(bytes(1 << 20)), 1 << 20)

    with app.test_client() as client:
        held = [client.get("/film.mp4") for _ in range(WHOLE_FILES_AT_ONCE)]  # unread
        third = client.get("/film.mp4")
        ranged = client.get("/film.mp4", headers={"Range": "bytes=0-65535"})
        assert [r.status_code for r in held] == [200] * WHOLE_FILES_AT_ONCE
        assert third.status_code == 503 and "already sending whole films" in third.text
        assert ranged.status_code == 206
        assert len(held[0].get_data()) == 1 << 20  # read to the end: its slot is back
        held[1].close()  # a phone that goes away: its slot is back too
        again = [client.get("/film.mp4") for _ in range(WHOLE_FILES_AT_ONCE)]
        assert [r.status_code for r in again] == [200] * WHOLE_FILES_AT_ONCE
