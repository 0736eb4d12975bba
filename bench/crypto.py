"""``vigkit office decrypt`` / ``encrypt`` against ``age -d`` / ``age -r``, as whole processes.

Both tools are run as the office runs them, each a fresh process writing its output file
(``-o``): ours is the ``vigkit`` command of the kit installed as ``scripts/install.sh``
installs it (bench/_installed.py: a wheel, not the development venv's editable install,
whose import hook alone costs every start ~12 ms), so its time includes starting Python
and importing what the command needs. Over the same 256 MiB random file (in RAM when
/dev/shm has room, removed afterwards), in rounds whose order alternates, with ``sync``
before every run; both decrypt the same file, made by age. Each figure is the median of
the rounds: wall time, and CPU (user + sys of that process, from ``wait4``), which a busy
shared machine disturbs less. A **ratio** is age's time over ours, so 1.00 or more means
ours is at least as fast. Then the start-up: ``vigkit --help`` and
``vigkit office decrypt --help`` against ``age --version`` and a bare ``python -c pass``
(the installed kit's interpreter).
RSS is the peak of our encrypt process over 64 MiB and over 256 MiB of input: the
memory does not grow with the file.
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
from typing import NamedTuple

import cryptography

from bench._installed import install_kit
from device import age

MIB = 1 << 20
SIZE = 256 * MIB
ROUNDS = 7
STARTS = 15
DOC = Path(__file__).resolve().parents[1] / "docs" / "performance.md"


class Run(NamedTuple):
    wall: float  # seconds
    cpu: float  # user + sys seconds of the process


def run(command: list[str]) -> Run:
    """Run ``command`` to the end (its output discarded); what it cost."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{command} failed with exit {proc.returncode}")
    return Run(wall, usage.ru_utime + usage.ru_stime)


def make_input(path: Path, size: int) -> None:
    with path.open("wb") as f:
        for _ in range(size // MIB):
            f.write(os.urandom(MIB))


def pairs(ours: list[str], theirs: list[str], out: Path, rounds: int) -> dict[str, list[Run]]:
    """``rounds`` runs of each, alternating which goes first; ``out`` removed before each."""
    runs: dict[str, list[Run]] = {"ours": [], "age": []}
    for i in range(rounds):
        order = [("ours", ours), ("age", theirs)]
        for name, command in order if i % 2 == 0 else order[::-1]:
            out.unlink(missing_ok=True)
            os.sync()
            runs[name].append(run(command))
    out.unlink(missing_ok=True)
    return runs


def throughput(
    vigkit: Path, work: Path, key: Path, recipient: str
) -> dict[str, dict[str, list[Run]]]:
    plain, sealed, out = work / "plain", work / "sealed.age", work / "out"
    subprocess.run(["age", "-r", recipient, "-o", sealed, plain], check=True)
    ours, office = [str(vigkit)], [str(vigkit), "office"]
    python = str(vigkit.with_name("python"))
    return {
        "decrypt": pairs(
            [*office, "decrypt", "-i", str(key), "-o", str(out), str(sealed)],
            ["age", "-d", "-i", str(key), "-o", str(out), str(sealed)],
            out,
            ROUNDS,
        ),
        "encrypt": pairs(
            [*office, "encrypt", "-r", recipient, "-o", str(out), str(plain)],
            ["age", "-r", recipient, "-o", str(out), str(plain)],
            out,
            ROUNDS,
        ),
        "help": pairs([*ours, "--help"], ["age", "--version"], out, STARTS),
        "decrypt --help": pairs(
            [*office, "decrypt", "--help"], [python, "-c", "pass"], out, STARTS
        ),
    }


def peak_rss_mib(command: list[str]) -> float:
    """The peak RSS of ``command``, started from a bare ``python -I -S`` rather than from
    this process: Linux counts the memory of the process that forked into the child's
    peak, and this one has held far more than ``command`` does."""
    code = (
        "import resource, subprocess, sys;"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, *command],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout) / 1024


def encrypt_rss(vigkit: Path, work: Path, recipient: str, mib: int) -> float:
    part, out = work / f"plain{mib}", work / "out"
    with (work / "plain").open("rb") as src, part.open("wb") as dst:
        for _ in range(mib):
            dst.write(src.read(MIB))
    command = [str(vigkit), "office", "encrypt", "-r", recipient, "-o", str(out), str(part)]
    rss = peak_rss_mib(command)
    part.unlink()
    out.unlink()
    return rss


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


def median(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(r, field) for r in runs)


def report(times: dict[str, dict[str, list[Run]]], rss: dict[int, float]) -> list[str]:
    med = {
        (job, who, f): median(runs, f)
        for job, by in times.items()
        for who, runs in by.items()
        for f in ("wall", "cpu")
    }

    def ratio(job: str, field: str) -> float:
        return med[job, "age", field] / med[job, "ours", field]

    def ms(job: str, who: str) -> str:
        return f"{med[job, who, 'wall'] * 1000:.0f}"

    cells = [f"{datetime.now(UTC):%Y-%m-%d}", f"{machine()}; {versions()}; *installed*"]
    lines = []
    for job in ("decrypt", "encrypt"):
        ours, theirs = med[job, "ours", "wall"], med[job, "age", "wall"]
        cells += [f"{ours:.2f}", f"{theirs:.2f}", f"**{ratio(job, 'wall'):.2f}**"]
        cells += [f"{ratio(job, 'cpu'):.2f}"]
        lines.append(
            f"{job} 256 MiB, whole processes: ours {ours:.3f} s, age {theirs:.3f} s -> "
            f"ratio {ratio(job, 'wall'):.2f} (CPU: ours {med[job, 'ours', 'cpu']:.3f} s, "
            f"age {med[job, 'age', 'cpu']:.3f} s -> {ratio(job, 'cpu'):.2f})"
        )
    cells += [ms("help", "ours"), ms("decrypt --help", "ours"), ms("help", "age")]
    cells += [ms("decrypt --help", "age"), f"{rss[64]:.1f}", f"{rss[256]:.1f}"]
    lines.append(
        f"start-up: vigkit --help {ms('help', 'ours')} ms, vigkit office decrypt --help "
        f"{ms('decrypt --help', 'ours')} ms, age --version {ms('help', 'age')} ms, "
        f"python -c pass {ms('decrypt --help', 'age')} ms"
    )
    lines.append(f"encrypt peak RSS: 64 MiB input {rss[64]:.1f} MiB, 256 MiB {rss[256]:.1f} MiB")
    return [*lines, "| " + " | ".join(cells) + " |"]


HEADER = """
## Crypto

`python -m bench crypto` (bench/crypto.py): `vigkit office decrypt|encrypt` of the kit
installed as scripts/install.sh installs it (a wheel, bench/_installed.py) against
`age -d|-r`, each a whole process writing a file, over the same 256 MiB random file in
/dev/shm; medians of {rounds} alternating rounds (start-up: of {starts}). A **ratio** is
age's time over ours: 1.00 or more means ours is at least as fast. Times in seconds
(start-up in ms); CPU ratio from each process's user + sys time; RSS is the peak (MiB) of
our encrypt process over 64 MiB and 256 MiB of input.

| date | machine | dec ours | dec age | dec ratio | dec CPU ratio | enc ours | enc age | \
enc ratio | enc CPU ratio | `vigkit --help` | `office decrypt --help` | `age --version` | \
`python -c pass` | RSS 64 | RSS 256 |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
"""


def record(row: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    if "\n## Crypto\n" not in text:
        text = text.rstrip("\n") + "\n" + HEADER.format(rounds=ROUNDS, starts=STARTS)
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
        if stat.f_bavail * stat.f_frsize > 4 * SIZE:
            return str(shm)
    return None


def main() -> None:
    identity = age.X25519Identity.generate()
    where = scratch_dir()
    with tempfile.TemporaryDirectory(prefix="vigkit-bench-", dir=where) as tmp:
        work = Path(tmp)
        vigkit = install_kit(work / "kit")
        print(f"scratch files in {work}; {vigkit}")
        key = work / "key.txt"
        key.write_text(f"{identity}\n")
        make_input(work / "plain", SIZE)
        recipient = str(identity.recipient())
        times = throughput(vigkit, work, key, recipient)
        rss = {mib: encrypt_rss(vigkit, work, recipient, mib) for mib in (64, 256)}
    *lines, row = report(times, rss)
    print("\n".join(lines))
    print(versions())
    record(row)
    print(f"recorded in {DOC}")


if __name__ == "__main__":
    main()
