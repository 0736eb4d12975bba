"""The kit installed as ``scripts/install.sh`` installs it, for benchmarks of whole processes.

The development venv (``scripts/bootstrap.sh``) holds the project as an *editable*
install: its ``.pth`` file imports a finder, and with it pathlib, urllib.parse and
importlib.util, before any of the kit's code runs — ~12 ms of every start that an
installed kit does not pay. So a start-up benchmark runs the kit from a throw-away venv
made the way install.sh makes the Pi's: the same Python, the kit built as a wheel and
installed (not editable) with its bytecode compiled, its dependencies at the lock's
versions, each file checked against the lock's hash.

Two differences, both on purpose: only what ``vigkit office decrypt|encrypt`` import is
installed (cryptography, cffi, pycparser; not PyAV, numpy or Flask), and the venv does
not see the system's site-packages (install.sh's ``--system-site-packages`` is for the
Pi's apt-only camera library; a development machine's system folder may hold ``.pth``
files of its own that would be timed with us).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What ``vigkit office decrypt|encrypt`` import besides the kit: pyca and its cffi.
PACKAGES = ("cryptography", "cffi", "pycparser")
# What building the wheel reads (pyproject.toml names the readme and the packages).
SOURCES = ("pyproject.toml", "README.md", "device", "web")


def install_kit(where: Path) -> Path:
    """Make a venv in ``where`` with the kit installed; return its ``vigkit`` command."""
    base = getattr(sys, "_base_executable", sys.executable)  # the venv's own interpreter
    subprocess.run([base, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    uv = Path(sys.executable).with_name("uv")  # the lock's uv, from the dev extra
    pins = where / "pins.txt"
    lines = [_run([sys.executable, str(ROOT / "scripts" / "lock_pin.py"), p]) for p in PACKAGES]
    pins.write_text("".join(lines))
    install = [str(uv), "pip", "install", "--quiet", "--python", str(python), "--no-deps"]
    install += ["--compile-bytecode"]  # as pip does at install: no first-run compile
    subprocess.run([*install, "--require-hashes", "-r", str(pins)], check=True)
    subprocess.run([*install, str(_wheel(where, uv))], check=True)
    return where / "bin" / "vigkit"


def _wheel(where: Path, uv: Path) -> Path:
    """The kit's wheel, built from a copy of its sources: setuptools writes a build/ folder
    beside what it builds, and the checkout's build/ holds scripts/pi-smoke.sh's roots."""
    src, wheels = where / "src", where / "wheel"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, src / name)
    # Built with this venv's (the lock's) setuptools, as install.sh builds with the lock's.
    build = [str(uv), "build", "--quiet", "--wheel", "--no-build-isolation"]
    subprocess.run(
        [*build, "--python", sys.executable, "--out-dir", str(wheels), str(src)], check=True
    )
    return next(wheels.glob("vigkit-*.whl"))


def _run(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout
