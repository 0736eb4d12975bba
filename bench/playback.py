"""Opening and seeking an hour-long film in both browser engines, against a plain file.

The film: 60 minutes of 1080p30 8 Mbit/s H.264 with AAC (``bench.clips.make_film``: the
kit's muxer and age writer), encrypted in a data dir on the disk, as on the kit's card.
Ours: the kit (``vigkit run``'s ``Appliance``, waitress, in this process) serving it as
``/recordings/<id>/film.mp4``, decrypted on the fly. Anchor: ffmpeg's ``-c copy
-movflags +faststart`` of the very bytes the kit serves, served by Werkzeug's static
``send_file`` (Range support) from this process. The anchor's plaintext is written into
an anonymous in-memory file (``memfd_create``) and read from there; it is never on a
disk. The browsers' profiles and caches (which may hold decrypted ranges) live in a
folder under ``/dev/shm`` (a tmpfs), removed at the end.

In each engine (Chromium through Playwright, WebKit through WebKitWebDriver; see
tests/browser/engines.py), for each side, on a page of that side's origin: **open** — a
new ``<video preload=auto muted>`` is given the film's URL (a new query each time, so
nothing comes from the browser's cache); until ``loadeddata`` (a first frame to show):
its time (**first frame**, ms), and the film requests and bytes the server sent by then.
Median of ``OPENS`` opens. **Seek**: ``SEEKS`` seeks to the same random times on both
sides, paused, each timed from setting ``currentTime`` to ``seeked``: median and worst
(a seek that times out or lands more than a frame away is infinite).
Sides alternate open by open; then each side makes its 20 seeks in turn. Ratio: ours over the
anchor (target at most 1.2 on every figure).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
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
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, serve_kit
from tests.browser.engines import ChromiumPhone, Phone, webkit
from tests.browser.playback import COPY, FilmLog, serve_static
from tests.web.web_helpers import HttpSession, make_keys

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
  v.addEventListener('loadeddata', () => done(performance.now() - t0), { once: true });
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
        side: {"first": [], "requests": [], "bytes": [], "seek": []} for side in sides
    }
    for n in range(OPENS):
        for side, (page, film, log) in sides.items():
            phone.goto(page)
            log.clear()
            got[side]["first"].append(phone.run(_OPEN, f"{film}?open={n}"))
            opened = log.snapshot()
            got[side]["requests"].append(len(opened))
            got[side]["bytes"].append(sum(r.sent for r in opened))
            print(f"    open {n} {side}: {got[side]['first'][-1]:.0f} ms", flush=True)
    rng = random.Random(13)
    targets = [rng.uniform(0, FILM_S) for _ in range(SEEKS)]
    for side, (page, film, _) in sides.items():
        phone.goto(page)
        phone.run(_OPEN, f"{film}?seeks")
        got[side]["seek"] = _seeks(phone, targets)
    return {side: _figures(values) for side, values in got.items()}


def _seeks(phone: Phone, targets: list[float], give_up: int = 3) -> list[float]:
    """Each seek's milliseconds; after ``give_up`` failures in a row the rest count as
    failed untried (a WebKit that never fires ``seeked`` would take 30 s each)."""
    times: list[float] = []
    for t in targets:
        failed_in_a_row = len(times) >= give_up and all(x == INF for x in times[-give_up:])
        times.append(INF if failed_in_a_row else _seek(phone, t))
    return times


def _figures(values: dict[str, list[float]]) -> dict[str, float]:
    return {
        "first": statistics.median(values["first"]),
        "requests": statistics.median(values["requests"]),
        "bytes": statistics.median(values["bytes"]),
        "seek_med": statistics.median(values["seek"]),
        "seek_worst": max(values["seek"]),
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
def engine(name: str, home: Path) -> Iterator[Phone]:
    """A phone of that engine, its profile under ``home`` (a tmpfs)."""
    if name == "webkit":
        with webkit(home / "webkit", **PHONE) as phone:
            yield phone
        return
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(home / "chromium"),
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
        session = HttpSession(kit.url)
        session.unlock()
        film = f"/recordings/{rec_id}/film.mp4"
        wait_for_thumbnails(work / "data", rec_id)  # the kit's one-time work after unlock
        with (
            in_memory_faststart(session, film) as plain,
            serve_static({"hour": plain}) as static,
        ):
            print(f"  anchor: {plain.stat().st_size / 1e9:.2f} GB in memory", flush=True)
            sides = {
                "ours": (kit.url + "/", kit.url + film, kit.films),
                "anchor": (static.url + "/", f"{static.url}/films/hour.mp4", static.log),
            }
            results = {}
            for name in ("chromium", "webkit"):
                with engine(name, ram) as phone:
                    phone.unlock(kit.url)
                    results[name] = measure(phone, sides)
                print(f"  {name}: {results[name]}", flush=True)
            return results


def row(name: str, got: dict[str, dict[str, float]]) -> str:
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
    return (
        f"| {datetime.now(UTC).date()} | {machine()}; {versions()} | {name} | "
        + " | ".join(cells)
        + f" | {' / '.join(f'{r:.2f}' for r in ratios)} | **{worst:.2f}** |"
    )


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-playback-"))  # the encrypted film only
    ram = Path(tempfile.mkdtemp(prefix="bench-playback-", dir="/dev/shm"))  # browser caches
    try:
        results = run(work, ram)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(ram, ignore_errors=True)
    lines = [row(name, got) for name, got in results.items()]
    print("\n".join(lines))
    text = DOC.read_text()
    if MARKER not in text:
        print("docs/performance.md has no Playback table; rows not written")
        return
    DOC.write_text(text.replace(MARKER, "\n".join([*lines, MARKER])))


if __name__ == "__main__":
    main()
