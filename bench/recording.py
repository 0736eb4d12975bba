"""CPU and memory of the whole recording path, against ``ffmpeg -c:v copy -c:a aac | age``.

Ours: a fresh process (``bench.recording_worker``) builds the kit's recording path and
records ``MEDIA_S`` of 1080p30 8 Mbit/s H.264 plus 48 kHz mono sound from a
``ReplayCamera`` and a ``SyntheticMicrophone`` on one ``VirtualClock``, as fast as
possible. The access units are encoded once, in the parent, and reach the worker through
a pipe: they exist only in memory. The worker counts its own CPU (all threads) from just
before ``start()`` to the moment the film is finalized; the launcher reports its peak RSS.

Anchor: the same access units (Annex B) and the same PCM (s16le) as files in /dev/shm,
through ``ffmpeg -c:v copy -c:a aac`` (fragmented MP4) piped into ``age -r``. Its CPU is
both processes' (from ``wait4``), its RSS the larger of the two. Those two input files are
the only plaintext media this bench writes: RAM-backed, and deleted as soon as the anchor
runs are done. The anchor never calls ``fdatasync``; ours does after every fragment (a
power cut must lose at most 2 s), so each run also times ours without it, to say what
that durability costs.

Both outputs are decrypted with the real ``age`` into a pipe and their packets counted by
ffprobe, so a figure only counts if the film is whole. Then press-to-first-frame: a warm
real-time camera, and the time from calling ``Recorder.start()`` to the first video frame
handed to the muxer.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av

from bench.crypto import DOC, machine, versions
from bench.recording_worker import (
    AAC_FRAME,
    FPS,
    RATE,
    make_units,
    pack_units,
    render_pcm,
)
from device import age
from device.media.packets import EncodedFrame

MEDIA_S = 120  # media per run
REALTIME_S = 45  # media of the one real-time pair (informational)
RUNS = 3
PRESSES = 10
ROOT = Path(__file__).resolve().parents[1]
ANCHOR_FLAGS = "frag_keyframe+empty_moov+default_base_moof"


# --- the parent: runs, checks, anchor ------------------------------------------------


# A child's ru_maxrss starts from its parent's peak (Linux keeps it across exec, and
# subprocess uses vfork), and this parent peaks at hundreds of MiB while libx264 encodes
# the input. So every measured process is started by this small launcher, as in
# bench/crypto.py: it runs a pipeline and reports each process's CPU and peak RSS.
LAUNCHER = """
import json, os, subprocess, sys
report, out, cmds = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sink = None if out == "-" else open(out, "wb")
procs, prev = [], None
for n, cmd in enumerate(cmds):
    stdout = sink if n == len(cmds) - 1 else subprocess.PIPE
    procs.append(subprocess.Popen(cmd, stdin=prev, stdout=stdout))
    if prev is not None:
        prev.close()
    prev = procs[-1].stdout
rows = []
for p in procs:
    _, status, u = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    rows.append({"rc": p.returncode, "cpu_s": u.ru_utime + u.ru_stime, "rss_kib": u.ru_maxrss})
with open(report, "w") as f:
    json.dump(rows, f)
"""


def launch(
    cmds: list[list[str]], report: Path, out: str = "-", stdin: bytes = b""
) -> tuple[str, list[dict[str, Any]]]:
    """Run ``cmds`` as a pipeline from the launcher; (last stdout, per-process usage)."""
    done = subprocess.run(
        [sys.executable, "-S", "-c", LAUNCHER, str(report), out, json.dumps(cmds)],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        check=True,
    )
    rows = json.loads(report.read_text())
    report.unlink()
    failed = [(cmd[0], row["rc"]) for cmd, row in zip(cmds, rows, strict=True) if row["rc"]]
    if failed:
        raise RuntimeError(f"{failed} failed:\n{done.stderr.decode()}")
    return done.stdout.decode(), rows


def run_worker(kind: str, data: Path, recipient: str, n: int, blob: bytes) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.recording_worker", kind, str(data), recipient, str(n)]
    stdout, (usage,) = launch([cmd], data.with_suffix(".usage"), stdin=blob)
    result: dict[str, Any] = json.loads(stdout.splitlines()[-1])
    result["rss_kib"] = usage["rss_kib"]
    return result


def count_packets(film: Path, key: Path) -> dict[str, int]:
    """Decrypt with the real age into ffprobe; packets per stream (a pipe's
    format.duration is only the first fragment's, so count instead)."""
    dec = subprocess.Popen(["age", "-d", "-i", str(key), str(film)], stdout=subprocess.PIPE)
    entries = "stream=codec_type,nb_read_packets"
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-count_packets", "-show_entries", entries, "-of", "json", "-"],
        stdin=dec.stdout,
        capture_output=True,
        text=True,
        check=True,
    )
    assert dec.stdout is not None
    dec.stdout.close()
    if dec.wait():
        raise RuntimeError(f"{film} did not decrypt")
    streams = json.loads(probe.stdout)["streams"]
    return {s["codec_type"]: int(s["nb_read_packets"]) for s in streams}


def check_film(film: Path, key: Path, seconds: int, short_s: float = 0.1) -> str:
    """Whole and as long as asked. ``short_s``: how much picture may be missing (in real
    time a loaded machine makes the camera skip the odd frame, as a sensor would)."""
    counts = count_packets(film, key)
    video_s, audio_s = counts.get("video", 0) / FPS, counts.get("audio", 0) * AAC_FRAME / RATE
    # Sound may run up to the clock's 0.5 s lead past the last picture on our side: when
    # the capture stops itself, audio already merged in the same batch is still muxed.
    if not -0.1 <= seconds - video_s <= short_s or not seconds - 0.1 <= audio_s <= seconds + 0.6:
        raise RuntimeError(f"{film}: {video_s:.2f} s of picture, {audio_s:.2f} s of sound")
    return f"{video_s:.2f} s video, {audio_s:.2f} s audio"


def write_anchor_inputs(shm: Path, units: list[EncodedFrame], seconds: int) -> tuple[Path, Path]:
    video, audio = shm / "video.h264", shm / "audio.raw"
    with video.open("wb") as f:
        for n in range(seconds * FPS):
            f.write(units[n % len(units)].data)
    audio.write_bytes(render_pcm(seconds))
    return video, audio


def run_anchor(
    video: Path, audio: Path, out: Path, recipient: str, realtime_s: int = 0
) -> dict[str, float]:
    """The anchor; with ``realtime_s``, only that much, read at the native rate (``-re``)."""
    live = ["-re"] if realtime_s else []
    ffmpeg = ["ffmpeg", "-nostdin", "-v", "error", *live, "-f", "h264", "-framerate", str(FPS)]
    ffmpeg += ["-i", str(video), *live, "-f", "s16le", "-ar", str(RATE), "-ac", "1"]
    ffmpeg += ["-i", str(audio), "-c:v", "copy", "-c:a", "aac", "-b:a", "96k"]
    ffmpeg += ["-t", str(realtime_s)] if realtime_s else []
    ffmpeg += ["-movflags", ANCHOR_FLAGS, "-f", "mp4", "-"]
    start = time.perf_counter()
    _, rows = launch([ffmpeg, ["age", "-r", recipient]], out.with_suffix(".usage"), str(out))
    return {
        "cpu_s": sum(r["cpu_s"] for r in rows),
        "wall_s": time.perf_counter() - start,
        "rss_kib": max(r["rss_kib"] for r in rows),
        "ffmpeg_cpu_s": rows[0]["cpu_s"],
    }


@dataclass
class Figures:
    ours: list[dict[str, Any]]
    nosync: list[dict[str, Any]]
    anchor: list[dict[str, float]]
    presses: dict[str, list[float]]
    realtime: tuple[dict[str, Any], dict[str, float]]

    def med(self, runs: list[dict[str, Any]], key: str, per_minute: bool = True) -> float:
        return statistics.median(r[key] for r in runs) / (MEDIA_S / 60 if per_minute else 1)


def measure(work: Path, shm: Path, units: list[EncodedFrame], key: Path, recipient: str) -> Figures:
    blob = pack_units(units)
    ours, nosync, anchor = [], [], []
    video, audio = write_anchor_inputs(shm, units, MEDIA_S)
    try:
        for run in range(RUNS):  # interleaved, so a noisy neighbour hits all alike
            data = work / f"kit-{run}"
            mine = run_worker("fast-worker", data, recipient, MEDIA_S, blob)
            mine["check"] = check_film(Path(mine["film"]), key, MEDIA_S)
            ours.append(mine)
            out = work / f"anchor-{run}.mp4.age"
            theirs = run_anchor(video, audio, out, recipient)
            theirs["check"] = check_film(out, key, MEDIA_S)  # type: ignore[assignment]
            anchor.append(theirs)
            unsynced = run_worker("nosync-worker", work / f"nosync-{run}", recipient, MEDIA_S, blob)
            unsynced["check"] = check_film(Path(unsynced["film"]), key, MEDIA_S)
            nosync.append(unsynced)
            print(
                f"run {run + 1}: ours {_brief(mine)}; anchor {_brief(theirs)}; "
                f"ours without fdatasync {unsynced['cpu_s']:.2f} CPU s",
                flush=True,
            )
            subprocess.run(["rm", "-rf", str(data), str(out), str(work / f"nosync-{run}")])
        realtime = run_realtime(work, video, audio, key, recipient, blob)
    finally:  # plaintext media: gone as soon as the anchor is done
        video.unlink(missing_ok=True)
        audio.unlink(missing_ok=True)
    presses = run_worker("press-worker", work / "kit-press", recipient, PRESSES, blob)
    return Figures(ours, nosync, anchor, presses, realtime)


def run_realtime(
    work: Path, video: Path, audio: Path, key: Path, recipient: str, blob: bytes
) -> tuple[dict[str, Any], dict[str, float]]:
    """One pair at the camera's own pace: what the kit spends while it films."""
    data, out = work / "kit-realtime", work / "anchor-realtime.mp4.age"
    mine = run_worker("realtime-worker", data, recipient, REALTIME_S, blob)
    # in real time a starved replay thread skips frames, as a late sensor would: allowed
    # here (the pair is informational), and shown in the check's seconds of picture
    mine["check"] = check_film(Path(mine["film"]), key, REALTIME_S, short_s=REALTIME_S / 10)
    theirs = run_anchor(video, audio, out, recipient, realtime_s=REALTIME_S)
    theirs["check"] = check_film(out, key, REALTIME_S, 0.5)  # type: ignore[assignment]
    print(f"real time: ours {_brief(mine)}; anchor {_brief(theirs)}", flush=True)
    subprocess.run(["rm", "-rf", str(data), str(out)], check=True)
    return mine, theirs


def _brief(r: dict[str, Any]) -> str:
    cpu, wall, rss = r["cpu_s"], r["wall_s"], r["rss_kib"] / 1024
    return f"{cpu:.2f} CPU s in {wall:.1f} s, {rss:.0f} MiB ({r['check']})"


def report(f: Figures) -> tuple[list[str], str]:
    ours, anchor = f.med(f.ours, "cpu_s"), f.med(f.anchor, "cpu_s")
    sync = ours - f.med(f.nosync, "cpu_s")
    rss = f.med(f.ours, "rss_kib", per_minute=False) / 1024
    anchor_rss = f.med(f.anchor, "rss_kib", per_minute=False) / 1024
    first = f.presses["first_frame_s"]
    press_med, press_max = statistics.median(first), max(first)
    ratio = ours / anchor
    rt_ours, rt_anchor = (r["cpu_s"] * 60 / REALTIME_S for r in f.realtime)
    lines = [
        f"CPU s per minute of media: ours {ours:.2f}, anchor {anchor:.2f} (ffmpeg "
        f"{f.med(f.anchor, 'ffmpeg_cpu_s'):.2f})",
        f"CPU ratio ours/anchor: {ratio:.2f} (target <= 1.0)",
        f"fdatasync after each fragment (the anchor never syncs): {sync:.2f} CPU s per minute;"
        f" without the syncs ours/anchor would be {(ours - sync) / anchor:.2f}",
        f"peak RSS: ours {rss:.1f} MiB (target < 120), anchor {anchor_rss:.1f} MiB",
        f"press to first frame: median {press_med * 1000:.0f} ms, max {press_max * 1000:.0f} ms"
        f" over {len(first)} presses (target < 500 ms); start() returned after median "
        f"{statistics.median(f.presses['start_returns_s']) * 1000:.0f} ms",
        f"real time ({REALTIME_S} s, one run): ours {rt_ours:.2f} CPU s per minute, anchor "
        f"(ffmpeg -re) {rt_anchor:.2f}, ratio {rt_ours / rt_anchor:.2f}",
    ]
    row = (
        f"| {datetime.now(UTC):%Y-%m-%d} | {machine()}; {versions()}, {ffmpeg_version()} | "
        f"{ours:.2f} | – | {sync:.2f} | {anchor:.2f} | **{ratio:.2f}** | **{ratio:.2f}** | "
        f"**{rss:.1f}** | {anchor_rss:.1f} | {press_med * 1000:.0f} / "
        f"**{press_max * 1000:.0f}** | {rt_ours:.2f} / {rt_anchor:.2f} |"
    )
    return lines, row


def ffmpeg_version() -> str:
    """The anchor's ffmpeg, and the FFmpeg inside PyAV that our muxer and AAC encoder use."""
    done = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=True)
    anchor = " ".join(done.stdout.split()[:3:2])
    return f"{anchor}, PyAV {av.__version__} (FFmpeg {av.ffmpeg_version_info})"


HEADER = """
## Recording pipeline

`python -m bench recording` (bench/recording.py). {minutes} minutes of 1080p30 8 Mbit/s
H.264 (pre-encoded once, in memory; filler NAL units bring the synthetic pattern up to
the full bitrate) plus 48 kHz mono sound, recorded as fast as possible by the kit's own
path (Recorder → Mp4Muxer with AAC → SealingTap → age writer → data dir) in a fresh
process, against the anchor `ffmpeg -c:v copy -c:a aac -b:a 96k` (fragmented MP4) `| age
-r` on the same access units and the same PCM. Medians of {runs} interleaved runs; both
outputs are decrypted with `age` and their packets counted before a run counts. CPU is
user+sys seconds per minute of media (ours: every thread of the worker, from `start()` to
the finalized film; the anchor: both processes). The anchor reads its input from two
files in /dev/shm — the only plaintext media the bench writes, in RAM, deleted right
after the anchor runs. The sound is the synthetic microphone's, rendered once (10 s,
looped) and replayed in 20 ms blocks, as the picture is replayed. **Ratio** is ours over
the anchor (target at most 1.0). **Tone** and **net** belong to earlier rows, when the
worker rendered the test tone while it recorded: net left that out.
**Sync** is what ours spends in `fdatasync` after each fragment (ours minus the same
worker with `fdatasync` switched off, in the same runs): the anchor never syncs, so it
is part of our figure only, kept in for honesty. RSS is the peak in MiB (ours: target
under 120). Press → first frame: a warm camera in real time, from calling
`Recorder.start()` to the first frame handed to the muxer, median / max over {presses}
presses (target under 500 ms). **Real time**: one pair of {realtime} s
at the camera's own pace (ours on the real-time clock, the anchor with `ffmpeg -re`), CPU
seconds per minute, ours / anchor — not the acceptance figure, but what filming costs.

| date | machine | CPU ours | tone | sync | CPU anchor | ratio | net | RSS ours | RSS anc. \
| press ms | real time |
|---|---|---|---|---|---|---|---|---|---|---|---|
"""


def record(row: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    if "\n## Recording pipeline\n" not in text:
        header = HEADER.format(
            minutes=MEDIA_S // 60, runs=RUNS, presses=PRESSES, realtime=REALTIME_S
        )
        text = text.rstrip("\n") + "\n" + header
    lines = text.splitlines()
    start = lines.index("## Recording pipeline")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), None)
    table_end = max(i for i in range(start, end or len(lines)) if lines[i].startswith("|"))
    lines.insert(table_end + 1, row)
    DOC.write_text("\n".join(lines) + "\n")


def main() -> None:
    identity = age.X25519Identity.generate()
    recipient = str(identity.recipient())
    units = make_units()
    with (
        tempfile.TemporaryDirectory(prefix="vigkit-bench-") as tmp,
        tempfile.TemporaryDirectory(prefix="vigkit-bench-", dir="/dev/shm") as shm,
    ):
        work = Path(tmp)
        key = work / "key.txt"
        key.write_text(f"{identity}\n")
        figures = measure(work, Path(shm), units, key, recipient)
    lines, row = report(figures)
    print("\n".join(lines))
    record(row)
    print(f"recorded in {DOC}")


if __name__ == "__main__":
    main()
