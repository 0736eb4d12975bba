"""Planning the progressive MP4 of a 60-minute film: its moov's size and build time.

The film: 60 minutes of 1080p30 8 Mbit/s H.264 plus 48 kHz mono AAC, written by the
kit's own recording path (``bench.clips.make_film``: muxer, fragment index with its
sample tables, age writer) into a temporary data dir — encrypted, as on the kit.

Measured, medians of 5 runs in this process:
- **index**: decrypt the encrypted fragment index and parse it (sample tables included);
- **moov**: ``progressive.build`` from that index: read the init segment through a fresh
  ``age.Reader`` and write the whole header (ftyp + moov + mdat header) — what the phone's
  first request waits for on a film not yet in ``web.films.Layouts``;
- **v1**: the same for a version 1 index (no sample tables), which re-reads every
  fragment's ``moof`` through the decrypting reader (one age chunk each): what a film
  recorded before the tables existed costs once.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.clips import FILM_S, make_film
from bench.crypto import DOC, machine, versions
from device import age
from device.library import Library
from device.media import FragmentIndex, progressive

RUNS = 5


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="vigkit-bench-progressive-"))
    try:
        identity = age.X25519Identity.generate()
        library = Library(work / "data")
        t0 = time.perf_counter()
        rec_id = make_film(library, [identity.recipient()])
        film, index_file = library.data.film(rec_id), library.data.derived(rec_id, "index")
        library.close()
        print(f"film: {FILM_S // 60} min made in {time.perf_counter() - t0:.0f} s", flush=True)
        measure(film, index_file.read_bytes(), identity)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(film: Path, index_file: bytes, identity: age.X25519Identity) -> None:
    def load() -> FragmentIndex:
        return FragmentIndex.from_json(age.decrypt_bytes(index_file, [identity]))

    def build(index: FragmentIndex) -> progressive.VirtualLayout:
        with film.open("rb") as f, age.Reader(f, [identity]) as reader:
            return progressive.build(index, reader)

    index = load()
    doc = json.loads(index.to_json())
    doc["v"] = 1
    del doc["samples"]
    old = FragmentIndex.from_json(json.dumps(doc))
    loads, builds, v1 = [], [], []
    for _ in range(RUNS):
        loads.append(timed(load)[0])
        seconds, layout = timed(lambda: build(index))
        builds.append(seconds)
        v1.append(timed(lambda: build(old))[0])
    assert isinstance(layout, progressive.VirtualLayout)
    row = {
        "index_kb": len(index_file) / 1e3,
        "moov_mb": layout.init_size / 1e6,
        "samples": sum(len(t.sizes) for t in (index.sample_tables() or {}).values()),
        "index_s": statistics.median(loads),
        "moov_s": statistics.median(builds),
        "v1_s": statistics.median(v1),
        "film_gb": film.stat().st_size / 1e9,
    }
    print(json.dumps(row), flush=True)
    report(row)


def report(row: dict[str, float]) -> None:
    line = (
        f"| {datetime.now(UTC):%Y-%m-%d} | {machine()}; {versions()} | {row['film_gb']:.2f} | "
        f"{int(row['samples'])} | {row['index_kb']:.0f} | {row['moov_mb']:.2f} | "
        f"{row['index_s'] * 1e3:.0f} | **{row['moov_s'] * 1e3:.0f}** | {row['v1_s'] * 1e3:.0f} |"
    )
    print(line)
    print(f"(add this row to the Progressive table in {DOC})")


if __name__ == "__main__":
    main()
