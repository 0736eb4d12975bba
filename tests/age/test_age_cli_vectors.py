"""Every non-hybrid C2SP age vector, through ``vigkit office decrypt`` as a whole process.

test_age_vectors.py checks the library; this checks what the office runs: the identity
file or passphrase file on the command line, the file read from disk (armored ones as
they are: decrypt detects armor as ``age -d`` does), the output written with ``-o``.
Success: exit 0 and the output's SHA-256 is the vector's. Failure: a non-zero exit, an
error of one line (plus its hint), no stack trace, and no output file left behind.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .conftest import TESTKIT
from .test_age_vectors import NAMES, NON_HYBRID, Vector, load

VIGKIT = [sys.executable, "-m", "device.cli"]
ROOT = Path(__file__).resolve().parents[2]


def _arguments(vector: Vector, folder: Path) -> list[str]:
    args: list[str] = []
    if vector.identities:
        key = folder / "key.txt"
        key.write_text("".join(f"{line}\n" for line in vector.identities))
        args += ["-i", str(key)]
    if vector.passphrases:
        secret = folder / "passphrase.txt"
        secret.write_text(f"{vector.passphrases[0]}\n")
        args += ["--passphrase-file", str(secret)]
    return args


def _problem(name: str, folder: Path) -> str | None:
    """What is wrong with ``vigkit office decrypt`` on this vector, or None."""
    vector = load(TESTKIT / name)
    folder.mkdir()
    sealed, out = folder / "file.age", folder / "out"
    sealed.write_bytes(vector.data)
    command = [*VIGKIT, "office", "decrypt", *_arguments(vector, folder), "-o", str(out)]
    done = subprocess.run(
        [*command, str(sealed)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    error = done.stderr.strip().splitlines()
    if vector.expect == "success":
        if done.returncode != 0:
            return f"{name}: exit {done.returncode}: {done.stderr.strip()}"
        digest = hashlib.sha256(out.read_bytes()).hexdigest()
        return None if digest == vector.payload else f"{name}: wrong plaintext"
    if done.returncode == 0:
        return f"{name}: expected {vector.expect}, but it decrypted"
    if not 1 <= len(error) <= 2 or not all(line.startswith("vigkit: ") for line in error):
        return f"{name}: not a plain error: {done.stderr!r}"
    leftovers = sorted(p.name for p in folder.iterdir() if p.name not in {sealed.name, *KEYS})
    return f"{name}: left {leftovers} behind" if leftovers else None


KEYS = {"key.txt", "passphrase.txt"}


def test_every_vector_through_the_command_line(tmp_path: Path) -> None:
    names = [n for n in NAMES if not load(TESTKIT / n).hybrid]
    assert len(names) == NON_HYBRID, f"the vectors in {TESTKIT} are incomplete"
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = list(pool.map(lambda n: _problem(n, tmp_path / n), names))
    problems = [p for p in found if p]
    assert not problems, "\n".join(problems)
