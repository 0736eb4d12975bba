"""Check, inside the kit's venv, that the Python packages the kit takes from apt are apt's.

``scripts/install.sh`` runs it as its last program step on the Pi:

    /opt/vigkit/venv/bin/python scripts/check_apt_python.py numpy av picamera2

For each name: it is importable, it lives outside the venv (a wheel in the venv would
shadow the build picamera2 was made against: a numpy 2 wheel breaks picamera2's
import), it is at least the version pyproject.toml asks for, and it imports. One line
per package, then exit 0; or the first problem and what to do, and exit 1.

Standard library only, like ``lock_pin.py``: it runs in a venv that holds only the lock.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
# The Debian package that provides each module.
APT_NAMES = {"numpy": "python3-numpy", "av": "python3-av", "picamera2": "python3-picamera2"}


class Problem(Exception):
    """What is wrong, and what to do about it."""


def floors(pyproject: Path = PYPROJECT) -> dict[str, tuple[int, ...]]:
    """``name>=X.Y`` of pyproject.toml's dependencies, as version tuples."""
    deps = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    found = (re.fullmatch(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)", d.strip()) for d in deps)
    return {m[1].lower(): version_tuple(m[2]) for m in found if m}


def version_tuple(text: str) -> tuple[int, ...]:
    """The leading numbers of a version: ``1:2.2.4+rpt1`` style suffixes are ignored."""
    return tuple(int(n) for n in re.findall(r"\d+", text.split("+")[0].split("-")[0])[:3])


def check(name: str, floor: tuple[int, ...] | None) -> str:
    apt = APT_NAMES.get(name, f"python3-{name}")
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise Problem(f"{name} is missing: install it with apt-get install {apt}")
    origin = Path(spec.origin).resolve()
    if origin.is_relative_to(Path(sys.prefix).resolve()):
        raise Problem(
            f"{name} comes from the venv ({origin.parent}) and hides apt's {apt}: remove it"
            f" with {sys.prefix}/bin/python -m pip uninstall {name}, then run install.sh again"
        )
    version = importlib.metadata.version(name)
    if floor and version_tuple(version) < floor:
        wanted = ".".join(map(str, floor))
        raise Problem(f"{apt} is {version}, the kit needs {wanted} or newer: update the system")
    try:
        importlib.import_module(name)
    except Exception as e:  # any import failure is the answer we are after
        raise Problem(f"{name} {version} from {apt} does not import: {e}") from e
    return f"{name} {version} from {origin.parent.parent} (apt's {apt}): ok"


def main(names: list[str]) -> int:
    wanted = floors()
    try:
        for name in names:
            print(f"check_apt_python: {check(name, wanted.get(name))}")
    except Problem as e:
        print(f"check_apt_python: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
