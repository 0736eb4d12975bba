"""uv.lock is the one list of Python versions: bootstrap installs from it, checked by hash,
and nothing in the project reads files from outside the repository."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCK_PIN = ROOT / "scripts" / "lock_pin.py"


def lock_pin(name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, LOCK_PIN, name], capture_output=True, text=True, timeout=30, check=False
    )


def test_uv_is_pinned_from_the_lock_with_its_hashes() -> None:
    done = lock_pin("uv")
    assert done.returncode == 0, done.stderr
    requirement, *hashes = done.stdout.split()
    assert requirement == f"uv=={metadata.version('uv')}"  # the uv bootstrap installed
    assert hashes and all(h.startswith("--hash=sha256:") and len(h) == 14 + 64 for h in hashes)


def test_a_package_not_in_the_lock_is_refused_plainly() -> None:
    done = lock_pin("no-such-package")
    assert done.returncode != 0
    assert "has 0 versions of no-such-package" in done.stderr


def test_the_venv_has_exactly_the_locked_versions() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"] if p["name"] != "vigkit"}
    for name in ("cryptography", "flask", "waitress", "pytest", "ruff", "mypy", "selenium"):
        assert metadata.version(name) == locked[name], name


def test_nothing_reads_from_outside_the_repository() -> None:
    """A user's clone has nothing beside it: no test, script or Make target may look there."""
    outside = ("../" + "shared", "/work" + "/")
    places = [ROOT / "Makefile", ROOT / ".ci" / "run", ROOT / "pyproject.toml"]
    for folder in ("tests", "scripts", "bench", "device", "web", "systemd"):
        places += [p for p in (ROOT / folder).rglob("*") if p.suffix in {".py", ".sh", ""}]
    found = [
        f"{p.relative_to(ROOT)}: {word}"
        for p in places
        if p.is_file() and "data" not in p.relative_to(ROOT).parts
        for word in outside
        if word in p.read_text(errors="replace")
    ]
    assert found == []
