"""Fixtures for sync tests: real rclone servers on 127.0.0.1 and a kit with real films.

The office server is ``rclone serve sftp`` or ``rclone serve webdav`` over a temporary
folder (with a user name and password), or a plain folder standing in for a USB drive.
The rclone config is written here, never ``~/.config``. The kit is a data folder with a
film recorded by ``vigkit record`` (encrypted to the office key and a kit key), a copy
under a second id, an interrupted film, and notes, a clip and a still made by ffmpeg
into pipes and encrypted in memory: no plaintext touches the disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from device import age, cases
from device.cases import CaseStore
from device.library import Library, State
from device.library.signing import ensure_signing_key, signed_json
from tests.recording.conftest import VIGKIT, OfficeKey, office_key, vigkit

__all__ = ["office_key"]  # re-exported: pytest finds the session fixture here

USER, PASSWORD = "office", "correct horse battery"
CASE = "F-0231"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def obscure(password: str) -> str:
    return subprocess.run(
        ["rclone", "obscure", password], capture_output=True, text=True, check=True
    ).stdout.strip()


@dataclass
class Server:
    """An office server: ``rclone serve KIND`` over ``root``, restartable on its port."""

    kind: str  # sftp, webdav or local
    root: Path
    work: Path
    port: int = field(default_factory=free_port)
    wrapper: list[str] = field(default_factory=list)  # e.g. unshare + a small tmpfs
    bwlimit: str = ""  # e.g. "4M": slow enough to be stopped part-way
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self.kind == "local" and not self.wrapper:
            return
        if self.kind == "local":  # a USB drive that fills up: only its private tmpfs
            self.proc = subprocess.Popen([*self.wrapper, "sleep", "3600"], start_new_session=True)
            deadline = time.monotonic() + 10
            while not (self.disk / ".mounted").exists():
                assert time.monotonic() < deadline, "the small disk was not mounted"
                time.sleep(0.05)
            return
        cmd = [
            *self.wrapper,
            "rclone", "serve", self.kind, str(self.root),
            "--addr", f"127.0.0.1:{self.port}",
            "--user", USER, "--pass", PASSWORD,
            "--config", str(self.work / "serve.conf"),
            "--cache-dir", str(self.work / "cache"),
            *(["--bwlimit", self.bwlimit] if self.bwlimit else []),
        ]  # fmt: skip
        (self.work / "serve.conf").touch()
        with (self.work / "serve.log").open("ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                assert self.proc.poll() is None, (self.work / "serve.log").read_text()
                assert time.monotonic() < deadline, "the rclone server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the wrapper's children too
            self.proc.wait()
            self.proc = None

    @property
    def disk(self) -> Path:
        """The served folder as this process sees it (a private tmpfs: through /proc)."""
        if self.wrapper and self.proc is not None:
            return Path(f"/proc/{self.proc.pid}/root{self.root}")
        return self.root

    def rclone_config(self, password: str = PASSWORD) -> Path:
        path = self.work / f"rclone-{abs(hash(password))}.conf"
        if self.kind == "sftp":
            text = (
                f"[office]\ntype = sftp\nhost = 127.0.0.1\nport = {self.port}\n"
                f"user = {USER}\npass = {obscure(password)}\n"
            )
        elif self.kind == "webdav":
            text = (
                f"[office]\ntype = webdav\nurl = http://127.0.0.1:{self.port}/\nvendor = other\n"
                f"user = {USER}\npass = {obscure(password)}\n"
            )
        else:
            text = "# a USB drive needs no remote: sync_remote is a folder\n"
        path.write_text(text)
        return path

    @property
    def remote(self) -> str:
        return str(self.disk / "vigkit") if self.kind == "local" else "office:vigkit"

    def kit_folder(self) -> Path:
        """The kit's folder on the server's disk (one kit syncs in these tests)."""
        (folder,) = (self.disk / "vigkit").iterdir()
        return folder


# A server whose disk is a private tmpfs of SIZE; it grows to 64 MB once the file GROW
# appears (the office freeing space). unshare runs it without real root.
SMALL_DISK = """set -e
mount -t tmpfs -o size="$SIZE" tmpfs "$ROOT"
touch "$ROOT/.mounted"
"$@" &
while [ ! -e "$GROW" ]; do kill -0 $! || exit 1; sleep 0.05; done
mount -o remount,size=64m "$ROOT"
wait
"""


def small_disk_server(kind: str, tmp_path: Path, size: int) -> Server:
    root, work = tmp_path / "office", tmp_path / "server"
    root.mkdir(parents=True)
    work.mkdir(parents=True)
    script = f'SIZE={size} ROOT="{root}" GROW="{work / "grow"}"; {SMALL_DISK}'
    wrapper = ["unshare", "--map-root-user", "--mount", "bash", "-c", script, "bash"]
    return Server(kind, root, work, wrapper=wrapper)


@pytest.fixture(params=["sftp", "webdav", "local"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    yield from _server(request.param, tmp_path)


@pytest.fixture
def sftp(tmp_path: Path) -> Iterator[Server]:
    yield from _server("sftp", tmp_path)


def _server(kind: str, tmp_path: Path) -> Iterator[Server]:
    root, work = tmp_path / "office", tmp_path / "server"
    root.mkdir()
    work.mkdir()
    srv = Server(kind, root, work)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


# --- the kit ----------------------------------------------------------------------------


@dataclass(frozen=True)
class KitFiles:
    data: Path
    film: str  # a complete film with notes, a clip and a still
    copy: str  # the same film under another id
    interrupted: str  # a film cut short, not sealed yet

    def sends(self, path: Path, doc: dict[str, Any]) -> None:
        """Write ``doc`` (a manifest, ``cases.json``…) at ``path`` in the archive signed
        with this kit's own key, as the kit's next sync would: for tests of what the
        office does with what a kit really sent, beyond its signature."""
        key = serialization.load_pem_private_key(
            (self.data / "keys" / "kit-signing.key").read_bytes(), password=None
        )
        assert isinstance(key, Ed25519PrivateKey)
        body = {k: v for k, v in doc.items() if k != "signature"}
        path.write_bytes(signed_json(body, key))

    def lists_cases(self, folder: Path) -> None:
        """The kit's ``cases.json`` in ``folder`` sent again for the case files there now
        (a case changed on the kit: its next sync sends both)."""
        doc = json.loads((folder / "cases.json").read_text())
        for case in doc["cases"]:
            data = (folder / "cases" / f"{case['case']}.age").read_bytes()
            case["size"], case["sha256"] = len(data), hashlib.sha256(data).hexdigest()
        self.sends(folder / "cases.json", doc)

    def write_config(self, server: Server, *, password: str = PASSWORD, days: float = 7) -> Path:
        path = self.data.parent / "vigkit.toml"
        path.write_text(
            f'data_dir = "{self.data}"\nsync_remote = "{server.remote}"\n'
            f'rclone_config = "{server.rclone_config(password)}"\nretention_days = {days}\n'
            "sync_stall_seconds = 8\n"  # a connection that dies silently shows quickly
        )
        clock_set_this_boot(self.data)  # retention erases only on a clock set this boot
        return path


def enrol(kit: KitFiles, register: Path) -> None:
    """Enrol the kit in the office's register of kits with ``vigkit office kit add``, as
    the office does once per kit (its id and the public key vigkit setup printed)."""
    lib = Library(kit.data)
    try:
        kit_id = lib.index.kit_id()
    finally:
        lib.close()
    public = (kit.data / "keys" / "kit-signing.pub").read_text().strip()
    vigkit("office", "kit", "add", kit_id, public, "--kits", register)


def clock_set_this_boot(data: Path) -> None:
    """A clock.json as the Settings page leaves it after setting the clock this boot."""
    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    item = {"at": "2026-11-21T15:00:00+00:00", "boot_id": boot, "clock_origin_s": 0.0,
            "offset_s": 120.0}  # fmt: skip
    (data / "clock.json").write_text(json.dumps({"corrections": [item]}))


def _ffmpeg(*args: str) -> bytes:
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", *args, "pipe:1"], capture_output=True, check=True
    ).stdout


def _make_template(root: Path, office: OfficeKey) -> KitFiles:
    data = root / "kit"
    kit_key = age.X25519Identity.generate()
    vigkit(
        "record", "--data", data, "--seconds", "6", "--fast", "--mic", "none",
        "--bitrate", "3000000", "-r", office.public, "-r", str(kit_key.recipient()),
    )  # fmt: skip
    recipients = age.parse_recipients((data / "keys" / "recipients.txt").read_text())
    lib = Library(data)
    try:
        (film,) = [row.id for row in lib.index.all()]
        rec = lib.data.recordings
        clip = _ffmpeg(
            "-i", "testsrc=size=320x180:rate=25:duration=2", "-c:v", "libx264", "-pix_fmt",
            "yuv420p", "-movflags", "frag_keyframe+empty_moov", "-f", "mp4",
        )  # fmt: skip
        still = _ffmpeg("-i", "testsrc=size=320x180", "-frames:v", "1", "-f", "mjpeg")
        (rec / f"{film}.clip-1.mp4.age").write_bytes(age.encrypt_bytes(clip, recipients))
        (rec / f"{film}.still-1.jpg.age").write_bytes(age.encrypt_bytes(still, recipients))
        notes = {
            "version": 2,
            "revision": 3,
            "next_id": 4,
            "case": {"code": CASE, "cycle": 2, "question": "How do we take turns?", "notes": ""},
            "consent": None,
            "marks": [{"id": "m1", "t": 1.5, "principle": "Being attentive", "source": "phone"}],
            "clips": [
                {
                    "id": "c2", "name": "Taking turns with the blocks", "principle": "Guiding",
                    "in": 1.0, "out": 3.0, "order": 1, "file": "clip-1.mp4",
                }
            ],
            "stills": [
                {"id": "s3", "t": 2.0, "caption": "Looking up – a smile", "file": "still-1.jpg"}
            ],
            "dismissed": [],
            "review": {"done": False, "reflections": ""},
        }  # fmt: skip
        (rec / f"{film}.notes.age").write_bytes(
            age.encrypt_bytes(json.dumps(notes).encode(), recipients)
        )
        copy = film[:-4] + "beef"
        interrupted = film[:-4] + "dead"
        for other in (copy, interrupted):
            lib.index.add(other, "2026-11-21T10:00:00+00:00", 0, False)
        shutil.copyfile(rec / f"{film}.mp4.age", rec / f"{copy}.mp4.age")
        lib.index.update(copy, state=State.COMPLETE, duration_s=6.0)
        cut = (rec / f"{film}.mp4.age").read_bytes()
        (rec / f"{interrupted}.mp4.age").write_bytes(cut[: len(cut) // 2])
        lib.index.update(interrupted, state=State.INTERRUPTED, stop_reason="interrupted")
        lib.audit.append("recording interrupted", interrupted)
        _file_into_a_case(lib, kit_key, recipients, [film, copy, interrupted])
        ensure_signing_key(lib.data)  # as vigkit setup makes it: every copy signs alike
    finally:
        lib.close()
    made = KitFiles(data, film, copy, interrupted)
    enrol(made, office.kits)  # the office's register, beside its key
    return made


def _file_into_a_case(
    lib: Library, key: age.X25519Identity, recipients: list[age.Recipient], films: list[str]
) -> None:
    """``vigkit record`` with no current case holds its film as Unassigned (never synced):
    the template's films belong to a case with consent, as a practitioner's would."""
    consent = {
        "given_on": "2026-11-02",
        "practitioner": True,
        "supervisor": True,
        "training": False,
        "stops_on_request": True,
    }
    store = CaseStore(lib)
    case = cases.new_case(store, CASE, "How do we take turns?", consent, [key], recipients)
    for rec_id in films:
        store.registry.assign(rec_id, case.id, 2)


@pytest.fixture(scope="session")
def kit_template(tmp_path_factory: pytest.TempPathFactory, office_key: OfficeKey) -> KitFiles:
    return _make_template(tmp_path_factory.mktemp("kit-template"), office_key)


@pytest.fixture
def kit(kit_template: KitFiles, tmp_path: Path) -> KitFiles:
    """A fresh copy of the template kit for one test."""
    data = tmp_path / "kit" / "data"
    shutil.copytree(kit_template.data, data)
    return KitFiles(data, kit_template.film, kit_template.copy, kit_template.interrupted)


def sync(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VIGKIT, "sync", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def kit_files(data: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((data / "recordings").glob("*.age"))}
