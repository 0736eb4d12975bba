"""Exporting a 30 s clip from a 60-minute recording, against ``ffmpeg -ss … -t 30 -c copy``.

The film: 60 minutes of 1080p30 8 Mbit/s H.264 (two GOPs of the synthetic pattern,
pre-encoded once in memory and padded to the full bitrate, as in ``bench.recording``)
plus 48 kHz mono AAC, written by the kit's own recording path (``EncryptedFilm``: muxer,
fragment index, age writer) into a temporary data dir — encrypted, as on the kit.

Ours: a fresh worker process runs ``device.library.exports.export_clip`` — open the film with
the decrypting ``age.Reader``, cut 30 s from mid-film (stream copy with an edit list),
build the MP4 in memory, encrypt it into ``<id>.clip-<n>.mp4.age``, note it in the notes
and the audit log. It reports its wall time, its CPU (all threads) and peak RSS; the
time excludes the interpreter's start. The frame-exact re-encode of the same clip is
measured the same way (time and CPU reported, no target).

Anchor: ``ffmpeg -ss IN -i film.mp4 -t 30 -c copy clip.mp4`` on the same film decrypted to
plaintext. That plaintext film and the anchor's clip are the only plaintext media this
bench writes: both live in /dev/shm (RAM), and both are deleted as soon as the anchor
runs are done (and on any error). Its time includes ffmpeg's start; its CPU is the
child's. Medians of 3 interleaved runs; each clip is checked with ffprobe (ours
decrypted by the real ``age`` into a pipe) before a run counts.
"""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import numpy as np

from bench.crypto import DOC, machine, versions
from device import age
from device.hardware.synthetic import encode_pattern
from device.library import Library, State, new_recording_id
from device.media.packets import AudioBlock, EncodedFrame
from device.recording.capture import CaptureResult
from device.recording.film import EncryptedFilm, FilmFormat

WIDTH, HEIGHT, FPS, BITRATE = 1920, 1080, 30, 8_000_000  # the kit's defaults
FILLER = b"\x00\x00\x01\x0c"  # H.264 filler data NAL unit (type 12): decoders skip it
FILM_S = 3600
CLIP_IN = 1800.4  # mid-film and mid-GOP: the cut needs the keyframe 0.4 s before
CLIP_S = 30.0
RUNS = 3
RATE, BLOCK = 48_000, 4800
ROOT = Path(__file__).resolve().parents[1]


def make_units() -> list[EncodedFrame]:
    """Two GOPs of the synthetic pattern, padded with filler NAL units to exactly the
    bitrate (the simple pattern compresses below it; a real scene would not)."""
    units = encode_pattern(WIDTH, HEIGHT, FPS, BITRATE)
    have = sum(len(u.data) for u in units)
    want = BITRATE // 8 * len(units) // FPS
    out = []
    for u in units:
        extra = max(0, round(len(u.data) * (want - have) / have) - len(FILLER) - 1)
        out.append(EncodedFrame(u.data + FILLER + b"\xff" * extra + b"\x80", u.keyframe, 0))
    return out


def make_film(library: Library, recipients: list[age.Recipient]) -> str:
    """Mux FILM_S of pre-encoded video and a quiet tone through the kit's EncryptedFilm."""
    rec_id = new_recording_id()
    library.index.add(rec_id, datetime.now(UTC).isoformat(), 0, True)
    film = EncryptedFilm(
        library.data, rec_id, recipients, FilmFormat(WIDTH, HEIGHT, FPS), has_audio=True
    )
    units = make_units()
    tone = (np.sin(np.arange(RATE) * 2 * np.pi * 440 / RATE) * 300).astype(np.int16)
    blocks = [tone[i : i + BLOCK] for i in range(0, RATE, BLOCK)]
    audio_us, n_block = 0, 0
    for n in range(FILM_S * FPS):
        ts = round(n * 1_000_000 / FPS)
        while audio_us <= ts:
            film.muxer.add_audio(AudioBlock(blocks[n_block % len(blocks)], audio_us))
            n_block += 1
            audio_us = round(n_block * BLOCK * 1_000_000 / RATE)
        unit = units[n % len(units)]
        film.muxer.add_video(EncodedFrame(unit.data, unit.keyframe, ts))
    size, sha = film.finish(CaptureResult(first_us=0, last_us=FILM_S * 1_000_000))
    library.index.update(rec_id, state=State.COMPLETE, duration_s=FILM_S, size=size, sha256=sha)
    return rec_id


# --- ours: a worker process ------------------------------------------------------------


def worker(data: str, rec_id: str, key_file: str, exact: str, clip_in: str) -> None:
    from device.library.exports import export_clip
    from device.library.notes import NotesStore, add_item

    library = Library(Path(data))
    (identity,) = age.parse_identities(Path(key_file).read_text())
    recipients = age.parse_recipients(library.data.recipients_file.read_text())
    notes = NotesStore(library.data, library.index, library.audit)
    clip = {"in": float(clip_in), "out": float(clip_in) + CLIP_S}
    doc = notes.apply(rec_id, [add_item("clips", clip)], [identity], recipients).doc
    clip_id = doc["clips"][-1]["id"]
    cpu0, t0 = _cpu(resource.RUSAGE_SELF), time.perf_counter()
    done = export_clip(
        library, notes, rec_id, clip_id, [identity], recipients, exact=exact == "exact"
    )
    wall, cpu = time.perf_counter() - t0, _cpu(resource.RUSAGE_SELF) - cpu0
    rss = _peak_rss_mib()
    file = str(library.data.derived(rec_id, done.item("clips", clip_id)["file"]))
    library.close()
    print(json.dumps({"wall": wall, "cpu": cpu, "rss": rss, "file": file}))


def run_ours(data: Path, rec_id: str, key_file: Path, exact: bool) -> dict[str, Any]:
    args = [str(data), rec_id, str(key_file), "exact" if exact else "copy", str(CLIP_IN)]
    out = subprocess.run(
        [sys.executable, "-m", "bench.clips", "--worker", *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    result: dict[str, Any] = json.loads(out.splitlines()[-1])
    clip = subprocess.run(
        ["age", "-d", "-i", str(key_file), result["file"]], capture_output=True, check=True
    ).stdout
    result["duration"] = _duration(clip)
    Path(result["file"]).unlink()  # the next run gets the same number: like for like
    return result


# --- the anchor ----------------------------------------------------------------------


def run_anchor(plain: Path, clip: Path) -> dict[str, Any]:
    cpu0, t0 = _cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
    cut = ["-ss", str(CLIP_IN), "-i", str(plain), "-t", str(CLIP_S), "-c", "copy", str(clip)]
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", *cut],
        check=True,
    )
    wall, cpu = time.perf_counter() - t0, _cpu(resource.RUSAGE_CHILDREN) - cpu0
    duration = _duration(clip.read_bytes())
    clip.unlink()
    return {"wall": wall, "cpu": cpu, "duration": duration}


def _peak_rss_mib() -> float:
    """This process's own peak RSS (``ru_maxrss`` would include the parent's, from fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _duration(mp4: bytes) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", "-"],
        input=mp4,
        capture_output=True,
        check=True,
    ).stdout
    duration = float(json.loads(out)["format"]["duration"])
    if abs(duration - CLIP_S) > 1.5:
        raise SystemExit(f"a clip came out {duration:.2f} s long instead of {CLIP_S:.0f} s")
    return duration


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="vigkit-bench-clips-"))
    shm = Path(tempfile.mkdtemp(prefix="vigkit-bench-clips-", dir="/dev/shm"))
    try:
        identity = age.X25519Identity.generate()
        key_file = work / "key.txt"
        key_file.write_text(f"{identity}\n")
        library = Library(work / "data")
        library.data.recipients_file.write_text(f"{identity.recipient()}\n")
        t0 = time.perf_counter()
        rec_id = make_film(library, [identity.recipient()])
        film = library.data.film(rec_id)
        library.close()
        print(
            f"film: {FILM_S // 60} min, {film.stat().st_size / 1e9:.2f} GB encrypted, "
            f"made in {time.perf_counter() - t0:.0f} s",
            flush=True,
        )
        plain = shm / "film.mp4"  # plaintext, in RAM, for the anchor only
        with plain.open("wb") as f:
            subprocess.run(["age", "-d", "-i", str(key_file), str(film)], stdout=f, check=True)
        ours, exact, anchor = [], [], []
        for _ in range(RUNS):
            anchor.append(run_anchor(plain, shm / "clip.mp4"))
            ours.append(run_ours(work / "data", rec_id, key_file, exact=False))
            exact.append(run_ours(work / "data", rec_id, key_file, exact=True))
        plain.unlink()
        report(ours, exact, anchor)
    finally:
        shutil.rmtree(shm, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def report(ours: list[dict[str, Any]], exact: list[dict[str, Any]], anchor: list[Any]) -> None:
    def med(runs: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    ratio = med(ours, "wall") / med(anchor, "wall")
    row = (
        f"| {datetime.now(UTC):%Y-%m-%d} | {machine()}; {versions()}, "
        f"ffmpeg {_ffmpeg_version()}, PyAV {av.__version__} | "
        f"{med(ours, 'wall'):.3f} | {med(ours, 'cpu'):.3f} | {med(ours, 'rss'):.0f} | "
        f"{med(anchor, 'wall'):.3f} | {med(anchor, 'cpu'):.3f} | **{ratio:.2f}** | "
        f"{med(exact, 'wall'):.2f} | {med(exact, 'cpu'):.2f} | {med(exact, 'rss'):.0f} |"
    )
    print("ours (s):", [round(r["wall"], 3) for r in ours])
    print("anchor (s):", [round(r["wall"], 3) for r in anchor])
    print("exact (s):", [round(r["wall"], 2) for r in exact])
    print(
        f"durations: ours {ours[0]['duration']:.3f}, anchor {anchor[0]['duration']:.3f}, "
        f"exact {exact[0]['duration']:.3f}"
    )
    print(f"ratio ours / anchor: {ratio:.2f} (target at most 1.5)")
    print(f"row for {DOC.name} (Clips):\n{row}")


def _ffmpeg_version() -> str:
    out = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=True)
    return out.stdout.split()[2]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(*sys.argv[2:7])
    else:
        main()
