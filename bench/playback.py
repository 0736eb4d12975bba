"""Opening and seeking an hour-long film in both browser engines, against a plain file.

The film: 60 minutes of 1080p30 8 Mbit/s H.264 with AAC (``bench.clips.make_film``: the
kit's muxer and age writer), encrypted in a data dir on the disk, as on the kit's card.
Ours: the kit (``vigkit run``'s ``Appliance``, waitress behind its TLS front, in this
process) serving it over HTTPS as ``/recordings/<id>/film.mp4``, decrypted on the fly.
Anchor: ffmpeg's ``-c copy -movflags +faststart`` of the very bytes the kit serves,
served by Werkzeug's static ``send_file`` (Range support) over plain HTTP from this
process, its threads at the kit's page priority (nice 10, ``web.common.serving``) so
both servers yield alike to whatever else the machine runs. The anchor's plaintext is
written into an anonymous in-memory file (``memfd_create``) and read from there; it is
never on a disk. The browsers' profiles and caches (which may hold decrypted ranges) live
in a folder under ``/dev/shm`` (a tmpfs), removed at the end.

In each engine (Chromium through Playwright, WebKit through WebKitWebDriver; see
tests/browser/engines.py), for each side, on a page of that side's origin: **open** — a
new ``<video preload=auto muted>`` is given the film's URL (a new query each time, so
nothing comes from the browser's cache); until ``loadeddata`` (a first frame to show):
its time (**first frame**, ms), and the film requests and bytes the server had sent at
that moment (the page's wall clock against the server's: the film streams on while the
driver's answer travels back). Median of ``OPENS`` opens. **Seek**: ``SEEKS`` seeks to
the same random times on both sides, paused, each timed from setting ``currentTime`` to
``seeked``: median and worst (a seek that times out or lands more than a frame away is
infinite); and the server's share of them, each seek answer's time from its request to
its first body bytes (**server first byte**, median and worst). **moov**: the size of
each side's ``moov``, which every engine reads before its first frame.
Sides alternate open by open; then each side makes its 20 seeks in turn. Ratio: ours over the
anchor (target at most 1.2 on every figure).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import statistics
import struct
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from bench.clips import FILM_S, make_film
from bench.crypto import DOC, machine, versions
from bench.web import wait_for_thumbnails
from device import age
from device.library import Library
from device.tls import KitTls
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, HOST, PHONE, serve_kit
from tests.browser.engines import ChromiumPhone, Phone, webkit
from tests.browser.playback import COPY, FilmLog, FilmRequest, serve_static
from tests.browser.trust import PinnedCertificate, chromium_env
from tests.web.web_helpers import HttpSession, make_keys
from web.common.serving import PAGE_NICE

OPENS = 3
SEEKS = 20
SEEK_TIMEOUT_S = 30.0
MARKER = "<!-- bench.playback rows -->"
INF = float("inf")

_OPEN = """
url => new Promise((done, fail) => {
  for (const old of document.querySelectorAll('video')) {
    old.removeAttribute('src'); old.load(); old.remove();
  }
  const v = document.createElement('video');
  v.muted = true; v.preload = 'auto'; v.playsInline = true;
  v.addEventListener('error', () => fail(new Error('video error ' + (v.error && v.error.code))));
  const t0 = performance.now();
  v.addEventListener('loadeddata', () => {
    const now = performance.now();
    done([now - t0, performance.timeOrigin + now]);  // and when, on the wall clock
  }, { once: true });
  v.src = url;
  document.body.prepend(v);
})"""
_SEEK = """
t => new Promise(done => {
  const v = document.querySelector('video');
  const t0 = performance.now();
  v.addEventListener('seeked', () => done([performance.now() - t0, v.currentTime]),
    { once: true });
  v.currentTime = t;
})"""


@contextlib.contextmanager
def in_memory_faststart(session: HttpSession, path: str) -> Iterator[Path]:
    """ffmpeg's faststart copy of the kit's film at ``path`` in a memfd; its /proc path.

    The film is read here in one plain GET (a 200 with every byte) and piped to ffmpeg,
    so the anchor holds exactly the kit's samples."""
    fd = os.memfd_create("anchor")
    try:
        command = [*COPY, "-movflags", "+faststart", "-f", "mp4", f"/proc/self/fd/{fd}"]
        ffmpeg = subprocess.Popen(command, stdin=subprocess.PIPE, pass_fds=[fd])
        assert ffmpeg.stdin is not None
        with session.opener.open(session.base + path, timeout=60) as answer:
            shutil.copyfileobj(answer, ffmpeg.stdin, 1 << 20)
        ffmpeg.stdin.close()
        if ffmpeg.wait(900) != 0:
            raise RuntimeError("ffmpeg could not copy the film")
        yield Path(f"/proc/{os.getpid()}/fd/{fd}")
    finally:
        os.close(fd)


def measure(phone: Phone, sides: dict[str, tuple[str, str, FilmLog]]) -> dict[str, Any]:
    """Opens (alternating sides) and seeks (each side in turn) of the film on each side:
    (page, film URL, request log) per side."""
    got: dict[str, dict[str, list[float]]] = {
        side: {"first": [], "requests": [], "bytes": [], "seek": [], "byte1": []} for side in sides
    }
    for n in range(OPENS):
        for side, (page, film, log) in sides.items():
            phone.goto(page)
            log.clear()
            ms, at_ms = phone.run(_OPEN, f"{film}?open={n}")
            opened = [r for r in log.snapshot() if r.start <= at_ms / 1000]
            got[side]["first"].append(ms)
            got[side]["requests"].append(len(opened))
            # what the server had sent when the page had its first frame (not when the
            # driver's answer came back: the film streams on meanwhile)
            got[side]["bytes"].append(sum(r.sent_by(at_ms / 1000) for r in opened))
            print(f"    open {n} {side}: {ms:.0f} ms", flush=True)
    rng = random.Random(13)
    targets = [rng.uniform(0, FILM_S) for _ in range(SEEKS)]
    for side, (page, film, log) in sides.items():
        phone.goto(page)
        phone.run(_OPEN, f"{film}?seeks")
        log.clear()
        got[side]["seek"] = _seeks(phone, targets)
        got[side]["byte1"] = _first_bytes(log.snapshot(), side)
    return {side: _figures(values) for side, values in got.items()}


def _seeks(phone: Phone, targets: list[float], give_up: int = 3) -> list[float]:
    """Each seek's milliseconds; after ``give_up`` failures in a row the rest count as
    failed untried (a WebKit that never fires ``seeked`` would take 30 s each)."""
    times: list[float] = []
    for t in targets:
        failed_in_a_row = len(times) >= give_up and all(x == INF for x in times[-give_up:])
        times.append(INF if failed_in_a_row else _seek(phone, t))
    return times


def _first_bytes(answers: list[FilmRequest], side: str) -> list[float]:
    """Each seek answer's milliseconds from its request to its first body bytes (the
    server's share of a seek); prints how long a dropped answer went on being made."""
    ends = [later.start for later in answers[1:]]
    late = [(r.end or INF) - at for r, at in zip(answers, ends, strict=False)]
    if late:
        gone = max(late) * 1e3
        print(f"    {side}: a replaced answer ended {gone:.0f} ms after the next began", flush=True)
    return [(r.first - r.start) * 1e3 for r in answers if r.first]


def _figures(values: dict[str, list[float]]) -> dict[str, float]:
    return {
        "first": statistics.median(values["first"]),
        "requests": statistics.median(values["requests"]),
        "bytes": statistics.median(values["bytes"]),
        "seek_med": statistics.median(values["seek"]),
        "seek_worst": max(values["seek"]),
        "byte1_med": statistics.median(values["byte1"]),
        "byte1_worst": max(values["byte1"]),
    }


def _seek(phone: Phone, t: float) -> float:
    """Milliseconds to ``seeked``; infinite if it never fires or lands elsewhere (more
    than a frame from ``t``), so a wrong seek can never pass for a fast one."""
    try:
        ms, landed = phone.run(_SEEK, t, timeout_s=SEEK_TIMEOUT_S)
    except Exception as e:  # a WebKit that never fires seeked: the figure says so
        print(f"    seek to {t:.2f} s: {e}", flush=True)
        return float("inf")
    if abs(landed - t) > 1 / 30:
        print(f"    seek to {t:.2f} s landed at {landed:.2f} s", flush=True)
        return float("inf")
    return float(ms)


@contextlib.contextmanager
def engine(name: str, home: Path, tls: KitTls) -> Iterator[Phone]:
    """A phone of that engine, its profile under ``home`` (a tmpfs), trusting the kit's
    certificate as the browser tests' phones do (tests/browser/trust.py)."""
    if name == "webkit":
        pinned = [PinnedCertificate(HOST, tls.certificate)]
        with webkit(home / "webkit", **PHONE, certificates=pinned) as phone:
            yield phone
        return
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(home / "chromium"),
            env=chromium_env(home, tls.ca),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            viewport=PHONE,  # type: ignore[arg-type]
            is_mobile=True,
            has_touch=True,
        )
        try:
            yield ChromiumPhone(context.new_page())
        finally:
            context.close()


def film_library(data: Path) -> str:
    """A data dir with the kit's keys and the hour-long film; its recording id."""
    make_keys(data)
    recipients = age.parse_recipients((data / "keys" / "recipients.txt").read_text())
    library = Library(data)
    try:
        return make_film(library, list(recipients))
    finally:
        library.close()


def run(work: Path, ram: Path) -> dict[str, dict[str, dict[str, float]]]:
    t0 = time.perf_counter()
    rec_id = film_library(work / "data")
    size = (work / "data" / "recordings" / f"{rec_id}.mp4.age").stat().st_size
    print(f"  film: {size / 1e9:.2f} GB encrypted in {time.perf_counter() - t0:.0f} s", flush=True)
    with serve_kit(work / "data", rec_id) as kit:
        session = kit.session()
        session.unlock()
        film = f"/recordings/{rec_id}/film.mp4"
        wait_for_thumbnails(work / "data", rec_id)  # the kit's one-time work after unlock
        with (
            in_memory_faststart(session, film) as plain,
            serve_static({"hour": plain}, nice=PAGE_NICE) as static,  # as the kit's page
        ):
            print(f"  anchor: {plain.stat().st_size / 1e9:.2f} GB in memory", flush=True)
            sides = {
                "ours": (kit.url + "/", kit.url + film, kit.films),
                "anchor": (static.url + "/", f"{static.url}/films/hour.mp4", static.log),
            }
            moov = {side: moov_size(session, url) for side, (_, url, _) in sides.items()}
            results = {}
            for name in ("chromium", "webkit"):
                with engine(name, ram, kit.tls) as phone:
                    phone.unlock(kit.url)
                    results[name] = measure(phone, sides)
                for side, size in moov.items():
                    results[name][side]["moov"] = size
                print(f"  {name}: {results[name]}", flush=True)
            return results


def moov_size(session: HttpSession, url: str) -> int:
    """The size of the ``moov`` box at the top of the MP4 at ``url``: what every engine
    reads before it can show a frame."""
    request = urllib.request.Request(url, headers={"Range": f"bytes=0-{(16 << 20) - 1}"})
    with session.opener.open(request, timeout=60) as answer:
        head = answer.read()
    at = 0
    while at + 8 <= len(head):
        size, kind = struct.unpack_from(">I4s", head, at)
        if kind == b"moov":
            return int(size)
        at += size or len(head)
    raise RuntimeError(f"no moov in the first 16 MiB of {url}")


def row(name: str, got: dict[str, dict[str, float]], load: str) -> str:
    ours, anchor = got["ours"], got["anchor"]
    keys = ("requests", "bytes", "first", "seek_med", "seek_worst")
    ratios = [ours[k] / anchor[k] if anchor[k] else float("inf") for k in keys]
    cells = [
        f"{ours['requests']:.0f} / {anchor['requests']:.0f}",
        f"{ours['bytes'] / 1e6:.2f} / {anchor['bytes'] / 1e6:.2f}",
        f"{ours['first']:.0f} / {anchor['first']:.0f}",
        f"{ours['seek_med']:.0f} / {anchor['seek_med']:.0f}",
        f"{ours['seek_worst']:.0f} / {anchor['seek_worst']:.0f}",
    ]
    worst = max(ratios)
    extra = [
        f"{ours['moov'] / 1e6:.2f} / {anchor['moov'] / 1e6:.2f}",
        f"{ours['byte1_med']:.1f}, {ours['byte1_worst']:.0f}"
        f" / {anchor['byte1_med']:.1f}, {anchor['byte1_worst']:.0f}",
    ]
    return (
        f"| {datetime.now(UTC).date()} | {machine()}; {versions()}; {load} | {name} | "
        + " | ".join(cells)
        + f" | {' / '.join(f'{r:.2f}' for r in ratios)} | **{worst:.2f}** | "
        + " | ".join(extra)
        + " |"
    )


def load_average() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-playback-"))  # the encrypted film only
    ram = Path(tempfile.mkdtemp(prefix="bench-playback-", dir="/dev/shm"))  # browser caches
    before = load_average()
    try:
        results = run(work, ram)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(ram, ignore_errors=True)
    load = f"load average {before} before, {load_average()} after"
    lines = [row(name, got, load) for name, got in results.items()]
    print("\n".join(lines))
    text = DOC.read_text()
    if MARKER not in text:
        print("docs/performance.md has no Playback table; rows not written")
        return
    DOC.write_text(text.replace(MARKER, "\n".join([*lines, MARKER])))


if __name__ == "__main__":
    main()
