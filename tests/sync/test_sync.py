"""``vigkit sync`` against real servers: the office ends up with byte-identical ciphertext
that the real ``age`` opens with the office key, plus manifests the office can check."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from device.library import Library, State
from device.office.kit_register import load_register
from device.sync import SyncState, read_status
from tests.recording.conftest import VIGKIT, OfficeKey, vigkit
from tests.recording.damage_helpers import chunks_of, flip_byte
from tests.sync.conftest import CASE, KitFiles, Server, kit_files, sync


def test_sync_sends_every_file_intact_and_verified(
    kit: KitFiles, server: Server, office_key: OfficeKey
) -> None:
    config = kit.write_config(server)
    before = kit_files(kit.data)
    done = sync(config)
    assert done.returncode == 0, done.stderr
    # the three recordings' files and their case's encrypted file
    assert "8 file(s) sent and verified; 3 recording(s) now safe at the office" in done.stdout
    remote = server.kit_folder()
    for name, data in before.items():
        assert (remote / name).read_bytes() == data, name  # byte-identical ciphertext
    (case_file,) = (kit.data / "cases").glob("*.age")
    assert (remote / "cases" / case_file.name).read_bytes() == case_file.read_bytes()
    assert CASE.encode() not in (remote / "cases" / case_file.name).read_bytes()
    listing = json.loads((remote / "cases.json").read_text())
    assert [c["case"] for c in listing["cases"]] == [case_file.stem]
    assert {f["recording"] for f in listing["cases"][0]["films"]} == {
        kit.film,
        kit.copy,
        kit.interrupted,
    }
    assert CASE not in (remote / "cases.json").read_text()  # ids, cycles and hashes only
    kits = load_register(office_key.kits)  # signed like the manifests, by the enrolled kit
    for name in ("cases.json", f"{kit.film}.manifest.json", "audit.json"):
        kits.check(remote.name, (remote / name).read_bytes(), name)
    for rec in (kit.film, kit.copy):
        assert office_key.decrypt(remote / f"{rec}.mp4.age")[4:8] == b"ftyp"
    manifest = json.loads((remote / f"{kit.film}.manifest.json").read_text())
    assert {f["name"] for f in manifest["files"]} == {n for n in before if n.startswith(kit.film)}
    assert manifest["kit"] == remote.name and manifest["state"] == "complete"
    assert [r["event"] for r in manifest["audit"]][:2] == ["record start", "record stop"]
    interrupted = json.loads((remote / f"{kit.interrupted}.manifest.json").read_text())
    assert interrupted["state"] == "interrupted"
    audit = json.loads((remote / "audit.json").read_text())
    assert [r["seq"] for r in audit["rows"]] == list(range(1, len(audit["rows"]) + 1))
    assert kit_files(kit.data) == before  # nothing removed: within the grace period

    lib = Library(kit.data, kit_lock=False)
    try:
        rows = {row.id: row for row in lib.index.all()}
        assert {r.sync_state for r in rows.values()} == {SyncState.SYNCED}
        status = read_status(lib)
        assert status.last_error == "" and not status.running
        assert {r.words for r in status.recordings} == {"Safe at the office"}
    finally:
        lib.close()

    again = sync(config)
    assert again.returncode == 0, again.stderr
    assert "the office already has everything" in again.stdout


def test_a_changed_notes_file_is_sent_again(kit: KitFiles, sftp: Server) -> None:
    config = kit.write_config(sftp)
    assert sync(config).returncode == 0
    notes = kit.data / "recordings" / f"{kit.film}.notes.age"
    changed = kit.data / "recordings" / f"{kit.copy}.notes.age"  # a new file, too
    changed.write_bytes(notes.read_bytes()[:-1] + b"\x00")  # ciphertext edit: new content
    notes.write_bytes(notes.read_bytes() + b"")  # same bytes, new mtime: nothing to send
    done = sync(config)
    assert done.returncode == 0, done.stderr
    assert "1 file(s) sent and verified; 1 recording(s) now safe" in done.stdout
    remote = sftp.kit_folder()
    assert (remote / changed.name).read_bytes() == changed.read_bytes()
    manifest = json.loads((remote / f"{kit.copy}.manifest.json").read_text())
    assert changed.name in {f["name"] for f in manifest["files"]}


def test_a_cases_json_sent_unsigned_before_is_sent_again_signed(
    kit: KitFiles, server: Server, office_key: OfficeKey
) -> None:
    """A kit that synced before cases.json was signed: the office has it unsigned, and
    the kit noted that body as sent. Its next sync sends it again, signed."""
    config = kit.write_config(server)
    assert sync(config).returncode == 0
    remote = server.kit_folder()
    doc = json.loads((remote / "cases.json").read_text())
    del doc["signature"]
    unsigned = json.dumps(doc, indent=1, sort_keys=True) + "\n"
    (remote / "cases.json").write_text(unsigned)  # what the office was sent then
    lib = Library(kit.data)
    try:
        lib.index.set_meta("cases_sent", unsigned)  # and what the kit noted as sent
    finally:
        lib.close()
    done = sync(config)
    assert done.returncode == 0, done.stderr
    data = (remote / "cases.json").read_bytes()
    load_register(office_key.kits).check(remote.name, data, "cases.json")
    assert {k: v for k, v in json.loads(data).items() if k != "signature"} == doc


def test_a_recording_being_recorded_is_not_sent(kit: KitFiles, sftp: Server) -> None:
    lib = Library(kit.data)
    try:
        lib.index.update(kit.copy, state=State.RECORDING)
    finally:
        lib.close()
    done = sync(kit.write_config(sftp))
    assert done.returncode == 0, done.stderr
    assert not (sftp.kit_folder() / f"{kit.copy}.mp4.age").exists()
    assert (sftp.kit_folder() / f"{kit.film}.mp4.age").exists()


def test_sync_works_while_the_kit_holds_its_lock(kit: KitFiles, sftp: Server) -> None:
    lib = Library(kit.data)  # as vigkit run does, for its whole life
    try:
        done = sync(kit.write_config(sftp))
        assert done.returncode == 0, done.stderr
        assert lib.index.get(kit.film).sync_state == SyncState.SYNCED
    finally:
        lib.close()


def test_no_remote_set(kit: KitFiles, tmp_path: Path) -> None:
    config = tmp_path / "off.toml"
    config.write_text(f'data_dir = "{kit.data}"\n')
    manual = sync(config)
    assert manual.returncode == 1 and "no sync_remote is set" in manual.stderr
    auto = sync(config, "--auto")
    assert auto.returncode == 0 and "nothing to do" in auto.stderr


def test_auto_is_quiet_when_the_office_is_unreachable(kit: KitFiles, sftp: Server) -> None:
    config = kit.write_config(sftp)
    sftp.stop()
    auto = sync(config, "--auto")
    assert auto.returncode == 0, auto.stderr
    assert auto.stdout == ""
    assert auto.stderr.splitlines() == [
        "vigkit sync: the office server cannot be reached; will try again later"
    ]
    manual = sync(config)
    assert manual.returncode == 1
    assert "vigkit: the office server cannot be reached" in manual.stderr
    assert "Check the kit has a network connection" in manual.stderr
    status = sync(config, "--status")
    assert "The last sync did not finish: the office server cannot be reached" in status.stdout


def test_rclone_killed_is_named(kit: KitFiles, tmp_path: Path) -> None:
    """rclone itself killed (say, by the kernel when memory runs out): named, and the next
    sync finishes the job."""
    slow = Server("sftp", tmp_path / "office", tmp_path / "server", bwlimit="2M")
    slow.root.mkdir()
    slow.work.mkdir()
    slow.start()
    try:
        config = kit.write_config(slow)
        proc = subprocess.Popen(
            [*VIGKIT, "sync", "--config", str(config)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        rclone_copy = None
        deadline = time.monotonic() + 30
        while rclone_copy is None:
            assert time.monotonic() < deadline, "rclone copy never started"
            for pid in children.read_text().split():
                if " copy " in Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " "):
                    rclone_copy = int(pid)
            time.sleep(0.02)
        time.sleep(0.3)
        os.kill(rclone_copy, signal.SIGKILL)
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 1
        assert "the upload was stopped part-way (rclone was killed by SIGKILL)" in err
        assert "Sync again: files that arrived are kept" in err
        # the server may still be writing out what it had received from the killed upload
        # (rclone serve's bandwidth limit holds it back); a kit's next sync comes minutes
        # later, by then the server has let the dropped connection go
        _settled(slow.root)
        again = sync(config)
        assert again.returncode == 0, again.stderr
        assert "did not finish" not in again.stdout  # that run ended and said so itself
    finally:
        slow.stop()


def _settled(root: Path, quiet_s: float = 1.0, timeout_s: float = 60) -> None:
    """Until no file under ``root`` has changed size for ``quiet_s``."""
    deadline = time.monotonic() + timeout_s
    last: dict[Path, int] = {}
    still_since = time.monotonic()
    while time.monotonic() < deadline:
        sizes = {p: p.stat().st_size for p in root.rglob("*") if p.is_file()}
        if sizes != last:
            last, still_since = sizes, time.monotonic()
        elif time.monotonic() - still_since >= quiet_s:
            return
        time.sleep(0.1)
    raise AssertionError(f"files under {root} kept changing for {timeout_s} s")


def test_unknown_entries_named_like_kit_files_are_left_alone(kit: KitFiles, sftp: Server) -> None:
    recordings = kit.data / "recordings"
    folder = recordings / f"{kit.film}.clip-9.mp4.age"  # a folder named like an export
    folder.mkdir()
    (folder / "inside.txt").write_text("someone's folder")
    odd = recordings / f"{kit.film}.Copy of notes.age"
    odd.write_bytes(b"not the kit's")
    done = sync(kit.write_config(sftp))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "3 recording(s) now safe at the office" in done.stdout
    assert "sync leaves" in done.stderr and folder.name in done.stderr
    remote = sftp.kit_folder()
    assert not (remote / folder.name).exists() and not (remote / odd.name).exists()
    assert (folder / "inside.txt").read_text() == "someone's folder"
    assert odd.read_bytes() == b"not the kit's"


def test_a_film_damaged_on_the_card_is_not_sent_as_safe(
    kit: KitFiles, tmp_path: Path, office_key: OfficeKey
) -> None:
    usb = Server("local", tmp_path / "usb", tmp_path / "usb-work")
    usb.root.mkdir()
    usb.work.mkdir()
    config = kit.write_config(usb)
    film = kit.data / "recordings" / f"{kit.film}.mp4.age"
    flip_byte(film, chunks_of(film) // 2)  # a bad sector after recording, before sync
    for _ in range(2):  # found again by the next run (its hash is cached), said once
        done = sync(config)
        assert done.returncode == 0, done.stderr
        assert f"{kit.film} was damaged on the card after recording and was NOT sent" in (
            done.stderr
        )
        assert "the office already has everything" not in done.stdout
    remote = usb.kit_folder()
    assert not list(remote.glob(f"{kit.film}.*"))  # neither the film nor its manifest
    assert (remote / f"{kit.copy}.mp4.age").exists()  # the others went as usual
    lib = Library(kit.data, kit_lock=False)
    try:
        assert lib.index.get(kit.film).sync_state == SyncState.DAMAGED
        words = {r.id: r.words for r in read_status(lib).recordings}
        events = [r for r in lib.audit.rows() if r.event == "film damaged on the card"]
    finally:
        lib.close()
    assert words[kit.film].startswith("Not sent: damaged on the card after recording")
    assert [r.recording for r in events] == [kit.film]
    assert events[0].detail["found_sha256"] != events[0].detail["recorded_sha256"]
    # the office key repairs it as the page does once unlocked; the next sync sends that
    repaired = vigkit("recover", "--data", kit.data, "-i", office_key.path)
    assert f"{kit.film}\tsealed: kept" in repaired.stdout and "lost about" in repaired.stdout
    done = sync(config)
    assert done.returncode == 0 and "was damaged" not in done.stderr, done.stderr
    assert (remote / film.name).read_bytes() == film.read_bytes()
    assert office_key.decrypt(remote / film.name)[4:8] == b"ftyp"
    assert not (remote / f"{film.name}.damaged").exists()  # the damaged file stays home
