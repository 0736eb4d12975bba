"""Encryption and decryption throughput of device.age against the real age CLI.

Both encrypt and decrypt the same 256 MiB random file (in a temporary folder, in RAM when
/dev/shm has room, removed afterwards), several times, interleaved. Ratios are age's time
divided by ours, i.e. our throughput over age's: 1.0 or more means ours is at least as
fast. Ours is measured in-process (as the kit uses it); age's includes its process start.
Then the peak RSS of a process that only runs our writer, over 64 MiB and over 256 MiB
of input, shows that the writer's memory does not grow with the file.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import cryptography

from device import age

MIB = 1 << 20
SIZE = 256 * MIB
REPEATS = 5
BLOCK = MIB  # what a muxer hands over at most per write is far smaller; 1 MiB is generous
DOC = Path(__file__).resolve().parents[1] / "docs" / "performance.md"


def make_input(path: Path, size: int) -> None:
    with path.open("wb") as f:
        for _ in range(size // MIB):
            f.write(os.urandom(MIB))


def encrypt_ours(src: Path, dst: Path, recipient: age.X25519Recipient, limit: int = -1) -> None:
    buf = memoryview(bytearray(BLOCK))
    left = limit if limit >= 0 else 1 << 62
    with src.open("rb", buffering=0) as f, age.Writer(dst.open("wb"), [recipient]) as writer:
        while left > 0 and (n := f.readinto(buf[: min(BLOCK, left)])):
            writer.write(buf[:n])
            left -= n


def decrypt_ours(src: Path, dst: Path, identity: age.X25519Identity) -> None:
    with src.open("rb") as f, dst.open("wb") as out:
        age.decrypt(f, [identity], out)


def timed(output: Path, action: object, *args: object) -> float:
    output.unlink(missing_ok=True)  # every run starts with no output file, like a new film
    start = time.perf_counter()
    action(*args)  # type: ignore[operator]
    return time.perf_counter() - start


def age_cli(*args: str | Path) -> None:
    subprocess.run(["age", *map(str, args)], check=True)


def throughput(work: Path, identity: age.X25519Identity, key: Path) -> dict[str, list[float]]:
    plain, ours, theirs, out = (work / n for n in ("plain", "ours.age", "age.age", "out"))
    recipient = identity.recipient()
    times: dict[str, list[float]] = {k: [] for k in ("enc_ours", "enc_age", "dec_ours", "dec_age")}
    for _ in range(REPEATS):
        times["enc_ours"].append(timed(ours, encrypt_ours, plain, ours, recipient))
        times["enc_age"].append(timed(theirs, age_cli, "-r", str(recipient), "-o", theirs, plain))
        times["dec_ours"].append(timed(out, decrypt_ours, theirs, out, identity))
        times["dec_age"].append(timed(out, age_cli, "-d", "-i", key, "-o", out, ours))
    return times


def peak_rss_kib(plain: Path, mib: int) -> int:
    """Peak RSS of a fresh process that encrypts ``mib`` MiB with our writer."""
    worker = (
        "import sys, resource, subprocess;"
        f"subprocess.run([sys.executable, '-m', 'bench.crypto', 'rss-worker', {str(plain)!r},"
        f" '{mib}'], check=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", worker], cwd=root, capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip())


def rss_worker(plain: str, mib: int) -> None:
    recipient = age.X25519Identity.generate().recipient()
    encrypt_ours(Path(plain), Path(os.devnull), recipient, limit=mib * MIB)


def machine() -> str:
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith(("model name", "Model")):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} CPUs, {platform.machine()}"


def versions() -> str:
    done = subprocess.run(["age", "--version"], capture_output=True, text=True, check=True)
    return (
        f"Python {platform.python_version()}, cryptography {cryptography.__version__}, "
        f"age {done.stdout.strip()}"
    )


def report(times: dict[str, list[float]], rss: dict[int, int]) -> list[str]:
    best = {k: min(v) for k, v in times.items()}
    med = {k: statistics.median(v) for k, v in times.items()}
    speed = {k: SIZE / MIB / t for k, t in best.items()}
    row = (
        f"| {datetime.now(UTC):%Y-%m-%d} | {machine()}; {versions()} | {speed['enc_ours']:.0f} | "
        f"{speed['enc_age']:.0f} | **{best['enc_age'] / best['enc_ours']:.2f}** | "
        f"{speed['dec_ours']:.0f} | {speed['dec_age']:.0f} | "
        f"**{best['dec_age'] / best['dec_ours']:.2f}** | {rss[64] / 1024:.1f} | "
        f"{rss[256] / 1024:.1f} |"
    )
    lines = [
        f"encrypt 256 MiB: ours {speed['enc_ours']:.0f} MiB/s, age {speed['enc_age']:.0f} MiB/s"
        f" -> age/ours time ratio {best['enc_age'] / best['enc_ours']:.2f}"
        f" (median {med['enc_age'] / med['enc_ours']:.2f})",
        f"decrypt 256 MiB: ours {speed['dec_ours']:.0f} MiB/s, age {speed['dec_age']:.0f} MiB/s"
        f" -> age/ours time ratio {best['dec_age'] / best['dec_ours']:.2f}"
        f" (median {med['dec_age'] / med['dec_ours']:.2f})",
        f"writer peak RSS: 64 MiB input {rss[64] / 1024:.1f} MiB, "
        f"256 MiB input {rss[256] / 1024:.1f} MiB",
    ]
    return [*lines, row]


HEADER = """
## Crypto

`python -m bench crypto` (bench/crypto.py). Throughput is the best of {repeats} runs over the
same 256 MiB random file; a **ratio** is age's time over ours (our throughput over age's),
so 1.00 or more means ours is at least as fast. Ours runs in-process; age's time includes
its process start. Speeds in MiB/s; RSS is the peak (MiB) of a fresh process running only
our writer over 64 MiB and over 256 MiB of input.

| date | machine | enc ours | enc age | enc ratio | dec ours | dec age | dec ratio | RSS 64|RSS 256|
|---|---|---|---|---|---|---|---|---|---|
"""


def record(row: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    if "\n## Crypto\n" not in text:
        text = text.rstrip("\n") + "\n" + HEADER.format(repeats=REPEATS)
    lines = text.splitlines()
    start = lines.index("## Crypto")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), None)
    table_end = max(i for i in range(start, end or len(lines)) if lines[i].startswith("|"))
    lines.insert(table_end + 1, row)
    DOC.write_text("\n".join(lines) + "\n")


def scratch_dir() -> str | None:
    """A RAM-backed folder when there is room: the disk would otherwise set the pace."""
    shm = Path("/dev/shm")
    if shm.is_dir():
        stat = os.statvfs(shm)
        if stat.f_bavail * stat.f_frsize > 5 * SIZE:
            return str(shm)
    return None


def main() -> None:
    identity = age.X25519Identity.generate()
    where = scratch_dir()
    print(f"scratch files in {where or tempfile.gettempdir()}")
    with tempfile.TemporaryDirectory(prefix="vigkit-bench-", dir=where) as tmp:
        work = Path(tmp)
        key = work / "key.txt"
        key.write_text(f"{identity}\n")
        make_input(work / "plain", SIZE)
        times = throughput(work, identity, key)
        rss = {mib: peak_rss_kib(work / "plain", mib) for mib in (64, 256)}
    *lines, row = report(times, rss)
    print("\n".join(lines))
    print(versions())
    record(row)
    print(f"recorded in {DOC}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["rss-worker"]:
        rss_worker(sys.argv[2], int(sys.argv[3]))
    else:
        main()
