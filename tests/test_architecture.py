"""The import contracts in pyproject.toml hold, and a wrong-way import breaks them.

The contracts (run by ``make lint`` as ``lint-imports``) are what keeps
docs/architecture.md true; the second test proves they can fail.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def run_lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS.exists(), "lint-imports is missing: run scripts/bootstrap.sh (dev extra)"
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def copy_project(to: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", to / "pyproject.toml")
    for package in ("device", "web"):
        shutil.copytree(
            ROOT / package, to / package, ignore=shutil.ignore_patterns("__pycache__", "static")
        )


def test_the_contracts_hold(tmp_path: Path) -> None:
    copy_project(tmp_path)
    done = run_lint_imports(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_a_media_module_importing_the_page_breaks_the_contracts(tmp_path: Path) -> None:
    copy_project(tmp_path)
    boxes = tmp_path / "device" / "media" / "boxes.py"
    boxes.write_text(boxes.read_text() + "\nfrom web.common import ranges  # planted\n")
    done = run_lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Only the commands (the composition roots) import the web pages BROKEN" in done.stdout
    assert "device.media.boxes -> web.common.ranges" in done.stdout


def test_the_recorder_importing_the_composition_root_breaks_the_layers(tmp_path: Path) -> None:
    copy_project(tmp_path)
    recorder = tmp_path / "device" / "recording" / "recorder.py"
    recorder.write_text(recorder.read_text() + "\nfrom device.kit import assembly  # planted\n")
    done = run_lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "each imports only the ones below it BROKEN" in done.stdout
