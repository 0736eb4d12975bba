"""Sync throughput against ``rclone copy`` of the same files to the same remote.

A data dir with a few films' worth of ciphertext (random bytes: indistinguishable from age
output, and no plaintext anywhere) is synced by ``Syncer`` to ``rclone serve sftp`` on
127.0.0.1, and the same files are copied by a bare ``rclone copy`` to the same server,
each run into a fresh folder, interleaved (the order alternating, the page cache written
back before each). Ours includes asking the remote what it can
hash, hashing the small files (the film's SHA-256 comes from the recorder, as on a kit)
and sending; verification (``rclone check``: the server's MD5 of each file against the
kit's) and the manifests are timed on their own. Ratio = anchor time / our time
(target ≥ 0.9).
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from device.library import HashingFile, Library, State, new_recording_id
from device.sync import Progress, Rclone, Syncer

FILMS = 3
FILM_BYTES = 96 << 20
RUNS = 9  # the copies vary by ±20% run to run on a shared VM: a median of many
USER, PASSWORD = "bench", "bench password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_data(root: Path) -> Path:
    lib = Library(root / "data")
    try:
        for n in range(FILMS):
            rec_id = new_recording_id()[:-4] + f"{n:04x}"
            lib.index.add(rec_id, "2026-11-21T10:00:00+00:00", 0, True)
            film = lib.data.film(rec_id)
            with HashingFile(film) as f:  # as the recorder writes: hashed on the way
                for _ in range(FILM_BYTES >> 20):
                    f.write(os.urandom(1 << 20))
            lib.data.derived(rec_id, "notes").write_bytes(os.urandom(2000))
            lib.index.update(rec_id, state=State.COMPLETE, size=f.size, sha256=f.sha256)
    finally:
        lib.close()
    return root / "data"


def fresh_copy(data: Path, where: Path) -> Path:
    """The same files (hard links) with a fresh index: nothing synced yet."""
    shutil.rmtree(where, ignore_errors=True)
    shutil.copytree(data, where, copy_function=os.link, ignore=shutil.ignore_patterns("kit.*"))
    shutil.copy2(data / "kit.sqlite", where / "kit.sqlite")
    return where


def run_ours(data: Path, rclone: Rclone, remote: str) -> tuple[float, float]:
    """(seconds to send, seconds to verify) for one whole sync."""
    marks: dict[str, float] = {}

    def seen(p: Progress) -> None:
        marks.setdefault(p.phase, time.perf_counter())
        if p.phase == "verifying":
            marks["verify-end"] = time.perf_counter()

    lib = Library(data, kit_lock=False)
    try:
        t0 = time.perf_counter()
        Syncer(library=lib, remote=remote, rclone=rclone).run(progress=seen)
        total = time.perf_counter() - t0
    finally:
        lib.close()
    verify = marks["verify-end"] - marks["verifying"]
    return total - verify, verify


def run_anchor(source: Path, config: Path, remote: str) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        ["rclone", "copy", str(source), remote, "--config", str(config)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - t0


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="vigkit-bench-sync-"))
    port = free_port()
    server = None
    try:
        data = make_data(work)
        office = work / "office"
        office.mkdir()
        (work / "serve.conf").touch()
        server = subprocess.Popen(
            ["rclone", "serve", "sftp", str(office), "--addr", f"127.0.0.1:{port}",
             "--user", USER, "--pass", PASSWORD, "--config", str(work / "serve.conf"),
             "--cache-dir", str(work / "cache")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1.0)
        obscured = subprocess.run(
            ["rclone", "obscure", PASSWORD], capture_output=True, text=True, check=True
        ).stdout.strip()
        config = work / "rclone.conf"
        config.write_text(
            f"[office]\ntype = sftp\nhost = 127.0.0.1\nport = {port}\nuser = {USER}\n"
            f"pass = {obscured}\n"
        )
        rclone = Rclone(config=config)
        total = sum(p.stat().st_size for p in (data / "recordings").iterdir())
        ours, verify, anchor = [], [], []
        for n in range(RUNS):
            copy = fresh_copy(data, work / f"run{n}")
            # Each side starts with nothing of the other's left to write back (a 288 MiB
            # copy leaves its pages dirty for the next one to pay for), and the order
            # alternates, so neither always goes first.
            for side in ("anchor", "ours") if n % 2 == 0 else ("ours", "anchor"):
                os.sync()
                if side == "anchor":
                    anchor.append(run_anchor(data / "recordings", config, f"office:anchor{n}"))
                else:
                    send_s, verify_s = run_ours(copy, rclone, f"office:ours{n}")
                    ours.append(send_s)
                    verify.append(verify_s)
        report(total, ours, verify, anchor)
    finally:
        if server is not None:
            server.kill()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)


def report(total: int, ours: list[float], verify: list[float], anchor: list[float]) -> None:
    mib = total / (1 << 20)
    o, v, a = statistics.median(ours), statistics.median(verify), statistics.median(anchor)
    print(f"{FILMS} films, {mib:.0f} MiB, rclone serve sftp on 127.0.0.1; medians of {RUNS}")
    print(f"ours (ask + hash + send):       {o:.2f} s = {mib / o:.0f} MiB/s")
    print(f"rclone copy:                    {a:.2f} s = {mib / a:.0f} MiB/s")
    print(f"throughput ratio (anchor / ours): {a / o:.2f}  (target >= 0.9)")
    print(f"verify + manifests: {v:.2f} s = {mib / v:.0f} MiB/s")
    print(f"ratio of the whole sync, verification included: {a / (o + v):.2f}")
    version = subprocess.run(["rclone", "version"], capture_output=True, text=True).stdout
    print(
        f"| {time.strftime('%Y-%m-%d')} | {platform.machine()}, {os.cpu_count()} CPUs; "
        f"{version.splitlines()[0]} | {mib:.0f} | {mib / o:.0f} | {mib / a:.0f} | "
        f"**{a / o:.2f}** | {v:.2f} | {a / (o + v):.2f} |"
    )
