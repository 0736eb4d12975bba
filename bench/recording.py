"""CPU and memory of the whole recording path, against ``ffmpeg -c:v copy -c:a aac | age``.

Ours: a fresh process builds the kit's recording path (Library in a temporary data dir,
Recorder, EncryptedFilm with its SealingTap and age writer) and records ``MEDIA_S`` of
1080p30 8 Mbit/s H.264 plus 48 kHz mono sound from a ``ReplayCamera`` and a
``SyntheticMicrophone`` on one ``VirtualClock``, as fast as possible. The access units are
encoded once, in the parent, and reach the worker through a pipe: they exist only in
memory. The worker counts its own CPU (all threads) from just before ``start()`` to the
moment the film is finalized, and reports its peak RSS.

Anchor: the same access units (Annex B) and the same PCM (s16le) as files in /dev/shm,
through ``ffmpeg -c:v copy -c:a aac`` (fragmented MP4) piped into ``age -r``. Its CPU is
both processes' (from ``wait4``), its RSS the larger of the two. Those two input files are
the only plaintext media this bench writes: RAM-backed, and deleted as soon as the anchor
runs are done.

Both outputs are decrypted with the real ``age`` into a pipe and their packets counted by
ffprobe, so a figure only counts if the film is whole. Then press-to-first-frame: a warm
real-time camera, and the time from calling ``Recorder.start()`` to the first video frame
handed to the muxer.
"""

from __future__ import annotations

import json
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av

from bench.crypto import DOC, machine, versions
from device import age
from device.capture import CaptureLimits, CaptureResult
from device.film import EncryptedFilm, FilmFormat
from device.hardware.base import AudioBlock, EncodedFrame
from device.hardware.synthetic import (
    RealTimeClock,
    ReplayCamera,
    SyntheticMicrophone,
    VirtualClock,
    encode_pattern,
)
from device.hardware.synthetic.clock import Pace
from device.library import Library
from device.recorder import Recorder, RecorderState

WIDTH, HEIGHT, FPS, BITRATE = 1920, 1080, 30, 8_000_000
RATE, BLOCK = 48_000, 1024
MEDIA_S = 120  # media per run
REALTIME_S = 45  # media of the one real-time pair (informational)
RUNS = 3
PRESSES = 10
ROOT = Path(__file__).resolve().parents[1]
FILLER = b"\x00\x00\x01\x0c"  # H.264 filler data NAL unit (type 12): decoders skip it
ANCHOR_FLAGS = "frag_keyframe+empty_moov+default_base_moof"


# --- the input: made once, in memory -------------------------------------------------


def make_units() -> list[EncodedFrame]:
    """Two GOPs of the synthetic pattern, padded with filler NAL units to exactly the
    bitrate: the simple pattern compresses below 8 Mbit/s, a real scene would not."""
    units = encode_pattern(WIDTH, HEIGHT, FPS, BITRATE)
    have = sum(len(u.data) for u in units)
    want = BITRATE // 8 * len(units) // FPS
    out = []
    for u in units:
        extra = max(0, round(len(u.data) * (want - have) / have) - len(FILLER) - 1)
        data = u.data + FILLER + b"\xff" * extra + b"\x80"
        out.append(EncodedFrame(data, u.keyframe, 0))
    return out


def pack_units(units: list[EncodedFrame]) -> bytes:
    return b"".join(struct.pack(">I?", len(u.data), u.keyframe) + u.data for u in units)


def unpack_units(blob: bytes) -> list[EncodedFrame]:
    units, at = [], 0
    while at < len(blob):
        size, key = struct.unpack_from(">I?", blob, at)
        at += 5
        units.append(EncodedFrame(blob[at : at + size], key, 0))
        at += size
    return units


def render_pcm(seconds: int) -> bytes:
    """What the synthetic microphone delivers for ``seconds``, as s16le."""
    mic = SyntheticMicrophone(clock=VirtualClock(), sample_rate=RATE, block_size=BLOCK)
    return b"".join(mic.render(n, 0).tobytes() for n in range(0, seconds * RATE, BLOCK))


# --- the worker process: our pipeline ------------------------------------------------


class TimedSink:
    """The film's muxer, noting when the first frame arrives and (on a virtual clock)
    holding the replay sources back to what the muxer has consumed, as a real camera's
    frame rate would: otherwise they outrun the capture queue and frames are dropped."""

    def __init__(self, muxer: Any, pace: Pace | None) -> None:
        self._muxer = muxer
        self._pace = pace
        self._never = threading.Event()
        self.first_frame = threading.Event()
        self.first_at = 0.0

    def add_video(self, frame: EncodedFrame) -> None:
        if not self.first_frame.is_set():
            self.first_at = time.perf_counter()
            self.first_frame.set()
        self._muxer.add_video(frame)
        if self._pace is not None:
            self._pace.wait_until(frame.timestamp_us, self._never)

    def add_audio(self, block: AudioBlock) -> None:
        self._muxer.add_audio(block)

    def close(self) -> None:
        self._muxer.close()


class BenchFilm:
    """The recorder's ``Film``: an ``EncryptedFilm`` whose muxer is seen through a sink."""

    def __init__(self, film: EncryptedFilm, sink: TimedSink) -> None:
        self._film = film
        self.muxer = sink

    def finish(self, result: CaptureResult) -> tuple[int, str]:
        return self._film.finish(result)

    def abandon(self) -> None:
        self._film.abandon()


@dataclass
class Rig:
    recorder: Recorder
    library: Library
    sinks: list[TimedSink]


def build(data: Path, recipient: str, camera: Any, mic: Any, pace: Pace | None) -> Rig:
    """The kit's recording path, put together as ``device.app.open_kit`` does."""
    library = Library(data)
    recipients = age.parse_recipients(recipient)
    fmt = FilmFormat(WIDTH, HEIGHT, FPS)
    sinks: list[TimedSink] = []

    def film_factory(rec_id: str, has_audio: bool) -> BenchFilm:
        film = EncryptedFilm(library.data, rec_id, recipients, fmt, has_audio)
        sinks.append(TimedSink(film.muxer, pace))
        return BenchFilm(film, sinks[-1])

    recorder = Recorder(
        library=library,
        camera=camera,
        microphone=mic,
        film_factory=film_factory,
        limits=CaptureLimits(),
        bytes_per_second=BITRATE // 8 + 20_000,
    )
    return Rig(recorder, library, sinks)


def cpu_s(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def mic_cost_per_minute() -> float:
    """CPU the synthetic microphone spends making one minute of sound (render + level)."""
    before = resource.getrusage(resource.RUSAGE_THREAD)
    render_pcm(60)
    return cpu_s(resource.getrusage(resource.RUSAGE_THREAD)) - cpu_s(before)


def record_worker(data: Path, recipient: str, seconds: int, fast: bool) -> dict[str, Any]:
    units = unpack_units(sys.stdin.buffer.read())
    mic_s = mic_cost_per_minute()
    clock = VirtualClock() if fast else RealTimeClock()
    camera = ReplayCamera(units, width=WIDTH, height=HEIGHT, fps=FPS, clock=clock)
    mic = SyntheticMicrophone(clock=clock, sample_rate=RATE, block_size=BLOCK)
    # the muxer's place on the virtual clock (see TimedSink)
    pace = clock.join(clock.now_us()) if isinstance(clock, VirtualClock) else None
    rig = build(data, recipient, camera, mic, pace)
    recorder = rig.recorder
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    rec_id = recorder.start(max_seconds=seconds)
    recorder.wait()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    if pace is not None:
        pace.leave()
    if recorder.status.state != RecorderState.IDLE:
        raise SystemExit(f"the recording failed: {recorder.status.fault}")
    row = rig.library.index.get(rec_id)
    rig.library.close()
    return {
        "cpu_s": cpu_s(after) - cpu_s(before),
        "wall_s": wall,
        "mic_s_per_min": mic_s,
        "film": str(rig.library.data.film(rec_id)),
        "duration_s": row.duration_s,
        "dropped": row.dropped_frames,
    }


def press_worker(data: Path, recipient: str, presses: int) -> dict[str, Any]:
    units = unpack_units(sys.stdin.buffer.read())
    clock = RealTimeClock()
    camera = ReplayCamera(units, width=WIDTH, height=HEIGHT, fps=FPS, clock=clock)
    camera.open()  # warm, as the kit keeps it between recordings
    mic = SyntheticMicrophone(clock=clock, sample_rate=RATE, block_size=BLOCK)
    rig = build(data, recipient, camera, mic, None)
    recorder, sinks = rig.recorder, rig.sinks
    latencies, returns = [], []
    for _ in range(presses):
        time.sleep(0.5)
        start = time.perf_counter()
        recorder.start()
        returns.append(time.perf_counter() - start)
        if not sinks[-1].first_frame.wait(10):
            raise SystemExit("no frame reached the muxer within 10 s")
        latencies.append(sinks[-1].first_at - start)
        time.sleep(0.3)
        recorder.stop()
    camera.close()
    rig.library.close()
    return {"first_frame_s": latencies, "start_returns_s": returns}


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
    cmd = [sys.executable, "-m", "bench.recording", kind, str(data), recipient, str(n)]
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


def check_film(film: Path, key: Path, seconds: int) -> str:
    counts = count_packets(film, key)
    video_s, audio_s = counts.get("video", 0) / FPS, counts.get("audio", 0) * BLOCK / RATE
    # Sound may run up to the clock's 0.5 s lead past the last picture on our side: when
    # the capture stops itself, audio already merged in the same batch is still muxed.
    if abs(video_s - seconds) > 0.1 or not seconds - 0.1 <= audio_s <= seconds + 0.6:
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
    anchor: list[dict[str, float]]
    presses: dict[str, list[float]]
    realtime: tuple[dict[str, Any], dict[str, float]]

    def med(self, runs: list[dict[str, Any]], key: str, per_minute: bool = True) -> float:
        return statistics.median(r[key] for r in runs) / (MEDIA_S / 60 if per_minute else 1)


def measure(work: Path, shm: Path, units: list[EncodedFrame], key: Path, recipient: str) -> Figures:
    blob = pack_units(units)
    ours, anchor = [], []
    video, audio = write_anchor_inputs(shm, units, MEDIA_S)
    try:
        for run in range(RUNS):  # interleaved, so a noisy neighbour hits both alike
            data = work / f"kit-{run}"
            mine = run_worker("fast-worker", data, recipient, MEDIA_S, blob)
            mine["check"] = check_film(Path(mine["film"]), key, MEDIA_S)
            ours.append(mine)
            out = work / f"anchor-{run}.mp4.age"
            theirs = run_anchor(video, audio, out, recipient)
            theirs["check"] = check_film(out, key, MEDIA_S)  # type: ignore[assignment]
            anchor.append(theirs)
            print(f"run {run + 1}: ours {_brief(mine)}; anchor {_brief(theirs)}", flush=True)
            subprocess.run(["rm", "-rf", str(data), str(out)], check=True)
        realtime = run_realtime(work, video, audio, key, recipient, blob)
    finally:  # plaintext media: gone as soon as the anchor is done
        video.unlink(missing_ok=True)
        audio.unlink(missing_ok=True)
    presses = run_worker("press-worker", work / "kit-press", recipient, PRESSES, blob)
    return Figures(ours, anchor, presses, realtime)


def run_realtime(
    work: Path, video: Path, audio: Path, key: Path, recipient: str, blob: bytes
) -> tuple[dict[str, Any], dict[str, float]]:
    """One pair at the camera's own pace: what the kit spends while it films."""
    data, out = work / "kit-realtime", work / "anchor-realtime.mp4.age"
    mine = run_worker("realtime-worker", data, recipient, REALTIME_S, blob)
    mine["check"] = check_film(Path(mine["film"]), key, REALTIME_S)
    theirs = run_anchor(video, audio, out, recipient, realtime_s=REALTIME_S)
    theirs["check"] = check_film(out, key, REALTIME_S)  # type: ignore[assignment]
    print(f"real time: ours {_brief(mine)}; anchor {_brief(theirs)}", flush=True)
    subprocess.run(["rm", "-rf", str(data), str(out)], check=True)
    return mine, theirs


def _brief(r: dict[str, Any]) -> str:
    cpu, wall, rss = r["cpu_s"], r["wall_s"], r["rss_kib"] / 1024
    return f"{cpu:.2f} CPU s in {wall:.1f} s, {rss:.0f} MiB ({r['check']})"


def report(f: Figures) -> tuple[list[str], str]:
    ours, anchor = f.med(f.ours, "cpu_s"), f.med(f.anchor, "cpu_s")
    mic = f.med(f.ours, "mic_s_per_min", per_minute=False)
    rss = f.med(f.ours, "rss_kib", per_minute=False) / 1024
    anchor_rss = f.med(f.anchor, "rss_kib", per_minute=False) / 1024
    first = f.presses["first_frame_s"]
    press_med, press_max = statistics.median(first), max(first)
    ratio, net_ratio = ours / anchor, (ours - mic) / anchor
    rt_ours, rt_anchor = (r["cpu_s"] * 60 / REALTIME_S for r in f.realtime)
    lines = [
        f"CPU s per minute of media: ours {ours:.2f} (of which the synthetic microphone's "
        f"tone {mic:.2f}), anchor {anchor:.2f} (ffmpeg "
        f"{f.med(f.anchor, 'ffmpeg_cpu_s'):.2f})",
        f"CPU ratio ours/anchor: {ratio:.2f}; without the synthetic tone: {net_ratio:.2f}"
        " (target <= 1.0)",
        f"peak RSS: ours {rss:.1f} MiB (target < 120), anchor {anchor_rss:.1f} MiB",
        f"press to first frame: median {press_med * 1000:.0f} ms, max {press_max * 1000:.0f} ms"
        f" over {len(first)} presses (target < 500 ms); start() returned after median "
        f"{statistics.median(f.presses['start_returns_s']) * 1000:.0f} ms",
        f"real time ({REALTIME_S} s, one run): ours {rt_ours:.2f} CPU s per minute, anchor "
        f"(ffmpeg -re) {rt_anchor:.2f}, ratio {rt_ours / rt_anchor:.2f}",
    ]
    row = (
        f"| {datetime.now(UTC):%Y-%m-%d} | {machine()}; {versions()}, {ffmpeg_version()} | "
        f"{ours:.2f} | {mic:.2f} | {anchor:.2f} | **{ratio:.2f}** | **{net_ratio:.2f}** | "
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
after the anchor runs. **Ratio** is ours over the anchor (target at most 1.0); **net**
leaves out the synthetic microphone's tone, which a real microphone does not render.
RSS is the peak in MiB (ours: target under 120). Press → first frame: a warm camera in
real time, from calling `Recorder.start()` to the first frame handed to the muxer, median
/ max over {presses} presses (target under 500 ms). **Real time**: one pair of {realtime} s
at the camera's own pace (ours on the real-time clock, the anchor with `ffmpeg -re`), CPU
seconds per minute, ours / anchor — not the acceptance figure, but what filming costs.

| date | machine | CPU ours | tone | CPU anchor | ratio | net | RSS ours | RSS anc. | press ms \
| real time |
|---|---|---|---|---|---|---|---|---|---|---|
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
    if sys.argv[1] in ("fast-worker", "realtime-worker"):
        fast = sys.argv[1] == "fast-worker"
        result = record_worker(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), fast)
    elif sys.argv[1:2] == ["press-worker"]:
        result = press_worker(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    else:
        main()
        sys.exit(0)
    print(json.dumps(result))
