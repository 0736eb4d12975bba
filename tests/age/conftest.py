"""Fixtures for the age tests: the real age CLI, keys, and where the C2SP test vectors are."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from device import age
from tests.needs import missing

# The C2SP CCTV vectors, vendored with their licence (tests/data/age-testkit/README.md).
TESTKIT = Path(__file__).resolve().parents[1] / "data" / "age-testkit"


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        missing(f"the {tool} CLI is not installed: sudo apt-get install age")
    return path


@pytest.fixture(scope="session")
def age_cli() -> str:
    return _need("age")


@pytest.fixture(scope="session")
def age_keygen() -> str:
    return _need("age-keygen")


@pytest.fixture(scope="session")
def identity() -> age.X25519Identity:
    return age.X25519Identity.generate()


@pytest.fixture
def key_file(tmp_path: Path, identity: age.X25519Identity) -> Path:
    path = tmp_path / "key.txt"
    path.write_text(age.identity_file_text(identity))
    return path


def run_age(*args: str | Path, stdin: bytes = b"") -> bytes:
    """Run the real age CLI; fail the test with its message if it fails."""
    done = subprocess.run(["age", *map(str, args)], input=stdin, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout
