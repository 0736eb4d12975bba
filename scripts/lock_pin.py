"""Print one package of uv.lock as a pip requirement line with every hash the lock holds.

Bootstrap uses it to install uv itself, at the lock's version and checked against the
lock's hashes (``pip install --require-hashes``), before uv installs everything else:

    python3 scripts/lock_pin.py uv > req.txt && pip install --require-hashes --no-deps -r req.txt

Standard library only: it runs before any dependency is there.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

LOCK = Path(__file__).resolve().parent.parent / "uv.lock"


def pin(name: str, lock: Path = LOCK) -> str:
    """``name==version --hash=sha256:...`` for the one version of ``name`` in the lock."""
    packages = tomllib.loads(lock.read_text())["package"]
    found = [p for p in packages if p["name"] == name]
    if len(found) != 1:
        raise SystemExit(f"lock_pin: {lock} has {len(found)} versions of {name}, expected 1")
    package = found[0]
    files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
    hashes = " ".join(f"--hash={f['hash']}" for f in files)
    if not hashes:
        raise SystemExit(f"lock_pin: {lock} has no hashes for {name}")
    return f"{name}=={package['version']} {hashes}"


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: lock_pin.py PACKAGE")
    print(pin(sys.argv[1]))
