"""The page over HTTPS against today's plain HTTP: the TTFB of a random 64 KiB range of a
film, and what the TLS front costs in memory (issue #17, finding 1).

Both sides are ``vigkit run`` as a kit runs it, each a whole process on its own copy of
the same data dir (a 2-minute 1080p30 8 Mbit/s film recorded by the kit's own recorder):
one with ``https = true`` (the TLS front: nginx in front of waitress, the certificate
from a demo CA) and one with ``https = false`` (waitress serving the page in clear, as
before issue #17). Requests alternate between the two over one keep-alive connection each,
as a phone's player keeps its connection (the TLS handshake is paid once); TTFB is from
sending the request to the first byte of the answer. Then the cost a phone pays on a
new connection: TTFB of the first range on a fresh connection, handshake included.

Memory: the front's two processes (nginx's master and worker) after the ranges, RSS and
PSS (PSS shares the pages nginx's processes share between them fairly), and the peak RSS
of each ``vigkit run``.
"""

from __future__ import annotations

import http.client
import ipaddress
import random
import re
import shutil
import signal
import ssl
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.crypto import DOC, machine, versions
from bench.web import make_film, pct, start_kit, timed_range, unlock, wait_for_thumbnails
from device.tls import KitTls, demo_tls

FILM_S = 120
REQUESTS = 300  # per side
FRESH = 40  # first ranges on new connections, per side
TINY_CAMERA = {"width": 64, "height": 64, "fps": 5, "microphone": "none", "bitrate": 25000}


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids = (task / "children").read_text().split()
        found += [int(k) for k in kids]
    return found


def _nginx_of(kit_pid: int) -> list[int]:
    """nginx's master and worker: the kit's child (under setpriv's name, exec'd) and its."""
    masters = [p for p in _children(kit_pid) if "nginx" in Path(f"/proc/{p}/cmdline").read_text()]
    return masters + [w for m in masters for w in _children(m)]


def _kib(pid: int, field: str, file: str = "status") -> int:
    text = Path(f"/proc/{pid}/{file}").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1))  # type: ignore[union-attr]


def _alternate(
    conns: dict[str, Any], film: str, cookies: dict[str, str], size: int
) -> dict[str, list[float]]:
    rng = random.Random(17)
    times: dict[str, list[float]] = {name: [] for name in conns}
    names = list(conns)
    for i in range(REQUESTS * len(names) + 20):
        name = names[i % len(names)]
        t = timed_range(
            conns[name], film, rng.randrange(0, size - (1 << 16)), {"Cookie": cookies[name]}
        )
        if i >= 20:  # the first requests warm both sides up
            times[name].append(t)
    return times


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-tls-"))
    try:
        secure_data, plain_data = work / "secure", work / "plain"
        rec_id, _ = make_film(secure_data, FILM_S)
        shutil.copytree(secure_data, plain_data)
        tls: KitTls = demo_tls(secure_data, ("localhost",), (ipaddress.IPv4Address("127.0.0.1"),))
        context = ssl.create_default_context(cafile=str(tls.ca))

        def secure(port: int) -> http.client.HTTPConnection:
            return http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)

        def plain(port: int) -> http.client.HTTPConnection:
            return http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        connect = {"https": secure, "http": plain}
        kits = {
            "https": start_kit(work, secure_data, "secure", TINY_CAMERA, https=True),
            "http": start_kit(work, plain_data, "plain", TINY_CAMERA),
        }
        try:
            cookies = {name: unlock(port, connect[name])[0] for name, (_, port) in kits.items()}
            for data in (secure_data, plain_data):
                wait_for_thumbnails(data, rec_id)
            film = f"/recordings/{rec_id}/film.mp4"
            conns = {name: connect[name](port) for name, (_, port) in kits.items()}
            head = conns["http"]
            head.request("HEAD", film, headers={"Cookie": cookies["http"]})
            answer = head.getresponse()
            answer.read()
            virtual = int(answer.getheader("Content-Length", "0"))
            kept = _alternate(conns, film, cookies, virtual)
            fresh: dict[str, list[float]] = {name: [] for name in kits}
            rng = random.Random(1)
            for i in range(FRESH * 2):
                name = ("https", "http")[i % 2]
                conn = connect[name](kits[name][1])
                t0 = time.perf_counter()
                conn.connect()  # the TCP (and TLS) handshake, counted
                setup = time.perf_counter() - t0
                t = timed_range(
                    conn, film, rng.randrange(0, virtual - (1 << 16)), {"Cookie": cookies[name]}
                )
                fresh[name].append(setup + t)
                conn.close()
            nginx = _nginx_of(kits["https"][0].pid)
            assert len(nginx) == 2, nginx
            front_rss = sum(_kib(p, "VmRSS") for p in nginx) / 1024
            front_pss = sum(_kib(p, "Pss", "smaps_rollup") for p in nginx) / 1024
            hwm = {name: _kib(proc.pid, "VmHWM") / 1024 for name, (proc, _) in kits.items()}
        finally:
            for proc, _ in kits.values():
                proc.send_signal(signal.SIGTERM)
                proc.wait(60)
        med = {n: statistics.median(v) * 1000 for n, v in kept.items()}
        p95 = {n: pct(v, 0.95) * 1000 for n, v in kept.items()}
        cold = {n: statistics.median(v) * 1000 for n, v in fresh.items()}
        print(
            f"  TTFB of a 64 KiB range, ms: HTTPS {med['https']:.2f} / p95 {p95['https']:.2f}; "
            f"plain HTTP {med['http']:.2f} / p95 {p95['http']:.2f}; "
            f"ratio {med['https'] / med['http']:.2f} / p95 {p95['https'] / p95['http']:.2f}"
        )
        print(
            f"  on a new connection (handshake included), median ms: HTTPS {cold['https']:.2f}, "
            f"plain HTTP {cold['http']:.2f}"
        )
        print(
            f"  the TLS front (nginx master + worker): RSS {front_rss:.1f} MiB, "
            f"PSS {front_pss:.1f} MiB; "
            f"peak RSS of vigkit run: {hwm['https']:.1f} MiB (HTTPS), {hwm['http']:.1f} MiB (plain)"
        )
        row = (
            f"| {datetime.now(UTC).date()} | {machine()}; {versions()} | "
            f"{med['https']:.2f} | {p95['https']:.2f} | {med['http']:.2f} | {p95['http']:.2f} | "
            f"**{med['https'] / med['http']:.2f}** | **{p95['https'] / p95['http']:.2f}** | "
            f"{cold['https']:.2f} | {cold['http']:.2f} | **{front_pss:.1f}** ({front_rss:.1f}) |"
        )
        text = DOC.read_text()
        marker = "<!-- bench.tls rows -->"
        if marker in text:
            DOC.write_text(text.replace(marker, f"{row}\n{marker}"))
        else:
            print("docs/performance.md has no TLS table; row not written")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
