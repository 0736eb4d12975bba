"""Playback serving: time to first byte of a random 64 KiB range of a ~1 GB encrypted film,
against a plain file; and the memory of ``vigkit run`` while it records and streams.

The film: ~17 minutes of 1080p30 8 Mbit/s H.264 (the recording bench's access units,
padded to the full bit rate, replayed as fast as possible) through the kit's own
recorder, muxer and ``EncryptedFilm`` into a data dir, so it is exactly what a kit holds.

Ours: ``vigkit run`` (a separate process, page served by waitress with the kit's
settings) with a tiny synthetic camera, unlocked over HTTP; the client asks
``/recordings/<id>/film.mp4`` for random 64 KiB ranges over keep-alive connections.
Anchor: a separate process serving a file of random bytes of the same size from the same
disk with Flask's ``send_file`` (Werkzeug's conditional responses) through the same
waitress settings. Requests alternate between the two; TTFB is from sending the request
to the first byte of the response. Both processes are measured in the same run, once
the kit has made the film's timeline thumbnails (its one-time background work after an
unlock, which competes with the page while it runs).

Memory: a second ``vigkit run`` records from the page while a client streams the film
range after range; its peak RSS (VmHWM). Its camera is the recording bench's
``ReplayCamera`` (1080p30 8 Mbit/s access units, encoded once in this process and handed
over a pipe, replayed in real time) standing in for the Pi's hardware encoder, whose
memory is not the process's: the synthetic camera's libx264 alone would add ~50 MiB at
640x360 that no kit carries. The microphone is the synthetic one.
"""

from __future__ import annotations

import http.client
import os
import pickle
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.crypto import DOC, machine, versions
from bench.recording import make_units
from device import age
from device.hardware.synthetic import ReplayCamera, VirtualClock
from device.library import DataDir, Library
from device.recording.capture import CaptureLimits
from device.recording.film import EncryptedFilm, FilmFormat
from device.recording.recorder import Recorder

FILM_S = 1000  # 8 Mbit/s: about 1 GB
RANGE = 64 * 1024
REQUESTS = 300  # per side
RSS_S = 30  # recording and streaming at once
PASSPHRASE = "bench quiet heron over willow"
ANCHOR = """
import sys
from flask import Flask, request, send_file
from web.common.serving import make_server
path, port = sys.argv[1], int(sys.argv[2])
app = Flask(__name__)
@app.get("/plain.bin")
def plain():
    return send_file(path, mimetype="application/octet-stream", conditional=True)
server = make_server(app, "127.0.0.1", port)
print("ready", flush=True)
server.serve()
"""
REPLAY_RUN = """
import pickle, sys
import device.kit.assembly
from device.hardware.synthetic import RealTimeClock, ReplayCamera
units = pickle.load(sys.stdin.buffer)
def open_camera(kind, *, width, height, fps, bitrate, fast=False):
    clock = RealTimeClock()
    camera = ReplayCamera(units, width=1920, height=1080, fps=30, clock=clock)
    camera.open()
    return camera, clock
device.kit.assembly.open_camera = open_camera
from device.cli import main
sys.exit(main(["run", "--config", sys.argv[1]]))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_film(data: Path, seconds: int = FILM_S) -> tuple[str, int]:
    """Record ``seconds`` of 8 Mbit/s 1080p through the kit's recorder, fast; (id, size)."""
    office, kit = age.X25519Identity.generate(), age.X25519Identity.generate()
    keys = data / "keys"
    keys.mkdir(parents=True)
    (keys / "kit-identity.age").write_bytes(age.wrap_identity(kit, PASSPHRASE, work_factor=12))
    recipients = [office.recipient(), kit.recipient()]
    (keys / "recipients.txt").write_text("".join(f"{r}\n" for r in recipients))
    library = Library(data)
    camera = ReplayCamera(make_units(), width=1920, height=1080, fps=30, clock=VirtualClock())
    camera.open()
    fmt = FilmFormat(1920, 1080, 30)
    recorder = Recorder(
        library=library,
        camera=camera,
        microphone=None,
        film_factory=lambda rec_id, audio: EncryptedFilm(
            library.data, rec_id, recipients, fmt, audio
        ),
        limits=CaptureLimits(reserve_bytes=10_000_000),
    )
    try:
        rec_id = recorder.start(max_seconds=seconds)
        while not recorder.wait(1):
            pass
        row = library.index.get(rec_id)
        assert row.size, row
        return rec_id, row.size
    finally:
        camera.close()
        library.close()


def start_kit(
    work: Path,
    data: Path,
    name: str,
    camera: dict[str, Any],
    replay: bytes | None = None,
    https: bool = False,
) -> tuple[Any, int]:
    """``vigkit run`` on ``data``: (process, the page's port). ``https``: served by the
    TLS front (the data dir holds its certificate), else by waitress in clear."""
    port, http_port = free_port(), free_port()
    cfg = work / f"{name}.toml"
    lines = [f'data_dir = "{data}"', 'http_host = "127.0.0.1"', f"https = {str(https).lower()}"]
    lines += (
        [f"https_port = {port}", f"http_port = {http_port}"] if https else [f"http_port = {port}"]
    )
    lines += ["storage_reserve_mb = 10", 'camera = "synthetic"']
    lines += [f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in camera.items()]
    cfg.write_text("\n".join(lines).replace("'", '"') + "\n")
    env = {**os.environ, "GPIOZERO_PIN_FACTORY": "mock"}
    cmd = [sys.executable, "-m", "device.cli", "run", "--config", str(cfg)]
    if replay is not None:
        cmd = [sys.executable, "-c", REPLAY_RUN, str(cfg)]
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdin=subprocess.PIPE if replay is not None else None,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parents[1],
    )
    if replay is not None:
        assert proc.stdin is not None
        proc.stdin.write(replay)
        proc.stdin.close()
    wait_for_port(port)
    return proc, port


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def wait_for_thumbnails(data: Path, rec_id: str) -> None:
    """Unlocking starts the kit's one-time work for the film, its timeline thumbnails (a
    pass over the whole film on a background thread): measure once that is done, as a
    phone sees the film every time after the first."""
    path = DataDir(data).derived(rec_id, "thumbs")
    deadline = time.monotonic() + 600
    while not path.exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the kit made no thumbnails within 10 minutes")
        time.sleep(0.5)


def unlock(port: int, connect: Any = None) -> tuple[str, str]:
    """(cookie, csrf token) of an unlocked session; ``connect(port)``: a connection
    (default plain HTTP)."""
    conn = connect(port) if connect else http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/unlock")
    r = conn.getresponse()
    page = r.read().decode()
    cookie = r.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    body = urllib.parse.urlencode({"passphrase": PASSPHRASE, "csrf_token": token})
    conn.request(
        "POST",
        "/unlock",
        body,
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    r = conn.getresponse()
    r.read()
    assert r.status == 302, r.status
    cookie = r.getheader("Set-Cookie", "").split(";")[0]
    conn.request("GET", "/", headers={"Cookie": cookie})
    r = conn.getresponse()
    page = r.read().decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    cookie = (r.getheader("Set-Cookie") or cookie).split(";")[0]  # the session now holds it
    conn.close()
    return cookie, token


def timed_range(
    conn: http.client.HTTPConnection, path: str, start: int, headers: dict[str, str]
) -> float:
    """Seconds from sending the request to the first byte of the answer (then read it all)."""
    wanted = {**headers, "Range": f"bytes={start}-{start + RANGE - 1}"}
    t0 = time.perf_counter()
    conn.request("GET", path, headers=wanted)
    response = conn.getresponse()  # returns once the status line has arrived
    ttfb = time.perf_counter() - t0
    body = response.read()
    assert response.status == 206 and len(body) == RANGE, (response.status, len(body))
    return ttfb


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def measure_ttfb(work: Path, data: Path, rec_id: str, size: int) -> dict[str, float]:
    kit, port = start_kit(
        work,
        data,
        "ttfb",
        {"width": 64, "height": 64, "fps": 5, "microphone": "none", "bitrate": 25000},
    )
    plain = work / "plain.bin"
    with plain.open("wb") as f:  # random bytes: nothing sensitive in plaintext
        for _ in range(size // (1 << 20) + 1):
            f.write(os.urandom(1 << 20))
    anchor_port = free_port()
    anchor = subprocess.Popen(
        [sys.executable, "-c", ANCHOR, str(plain), str(anchor_port)],
        stdout=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        wait_for_port(anchor_port)
        cookie, _ = unlock(port)
        wait_for_thumbnails(data, rec_id)
        ours_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        anchor_conn = http.client.HTTPConnection("127.0.0.1", anchor_port, timeout=30)
        film = f"/recordings/{rec_id}/film.mp4"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("HEAD", film, headers={"Cookie": cookie})
        virtual_size = int(conn.getresponse().getheader("Content-Length", "0"))
        conn.close()
        rng = random.Random(64)
        ours: list[float] = []
        theirs: list[float] = []
        for i in range(REQUESTS * 2 + 20):
            start = rng.randrange(0, virtual_size - RANGE)
            if i % 2:
                t = timed_range(anchor_conn, "/plain.bin", start, {})
                if i >= 20:
                    theirs.append(t)
            else:
                t = timed_range(ours_conn, film, start, {"Cookie": cookie})
                if i >= 20:  # the first requests warm both sides up
                    ours.append(t)
        return {
            "virtual_size": virtual_size,
            "ours_med": statistics.median(ours) * 1000,
            "ours_p95": pct(ours, 0.95) * 1000,
            "anchor_med": statistics.median(theirs) * 1000,
            "anchor_p95": pct(theirs, 0.95) * 1000,
        }
    finally:
        for proc in (kit, anchor):
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        plain.unlink(missing_ok=True)


def measure_rss(work: Path, data: Path, rec_id: str) -> float:
    replay = pickle.dumps(make_units())
    camera = {"width": 1920, "height": 1080, "fps": 30, "microphone": "synthetic"}
    kit, port = start_kit(work, data, "rss", {**camera, "bitrate": 8_000_000}, replay)
    try:
        cookie, token = unlock(port)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body = urllib.parse.urlencode({"action": "start"})
        conn.request(
            "POST",
            "/record",
            body,
            {
                "Cookie": cookie,
                "X-CSRF-Token": token,
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        r = conn.getresponse()
        answer = r.read()
        assert r.status == 200 and b"recording" in answer, (r.status, answer)
        film = f"/recordings/{rec_id}/film.mp4"
        at, streamed, t_end = 0, 0, time.monotonic() + RSS_S
        while time.monotonic() < t_end:  # as a phone plays: range after range
            conn.request("GET", film, headers={"Cookie": cookie, "Range": f"bytes={at}-"})
            r = conn.getresponse()
            chunk = r.read()
            streamed += len(chunk)
            total = int(r.getheader("Content-Range", "/0").rpartition("/")[2])
            at = (at + len(chunk)) % total
        conn.request(
            "POST",
            "/record",
            urllib.parse.urlencode({"action": "stop"}),
            {
                "Cookie": cookie,
                "X-CSRF-Token": token,
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        conn.getresponse().read()
        status = Path(f"/proc/{kit.pid}/status").read_text()
        hwm_kib = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
        print(f"  streamed {streamed / 1e6:.0f} MB while recording {RSS_S} s")
        return hwm_kib / 1024
    finally:
        kit.send_signal(signal.SIGTERM)
        kit.wait(60)


def write_doc(row: str) -> None:
    text = DOC.read_text()
    marker = "<!-- bench.web rows -->"
    if marker not in text:
        print("docs/performance.md has no Web table; row not written")
        return
    DOC.write_text(text.replace(marker, f"{row}\n{marker}"))


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-web-"))
    try:
        data = work / "data"
        t0 = time.perf_counter()
        rec_id, size = make_film(data)
        print(f"  film: {size / 1e9:.2f} GB in {time.perf_counter() - t0:.0f} s")
        ttfb = measure_ttfb(work, data, rec_id, size)
        ratio_med = ttfb["ours_med"] / ttfb["anchor_med"]
        ratio_p95 = ttfb["ours_p95"] / ttfb["anchor_p95"]
        print(
            f"  TTFB ms ours {ttfb['ours_med']:.2f} / p95 {ttfb['ours_p95']:.2f}; "
            f"anchor {ttfb['anchor_med']:.2f} / p95 {ttfb['anchor_p95']:.2f}; "
            f"ratio {ratio_med:.2f} / p95 {ratio_p95:.2f}"
        )
        rss = measure_rss(work, data, rec_id)
        print(f"  peak RSS of vigkit run, recording and streaming: {rss:.1f} MiB")
        row = (
            f"| {datetime.now(UTC).date()} | {machine()}; {versions()} | "
            f"{ttfb['virtual_size'] / 1e9:.2f} | {ttfb['ours_med']:.2f} | {ttfb['ours_p95']:.2f} | "
            f"{ttfb['anchor_med']:.2f} | {ttfb['anchor_p95']:.2f} | **{ratio_med:.2f}** | "
            f"**{ratio_p95:.2f}** | **{rss:.1f}** |"
        )
        write_doc(row)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
