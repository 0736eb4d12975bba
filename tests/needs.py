"""What a test does when a tool or package it drives is not installed.

Under CI (``CI`` set, as ``.ci/run`` does) it fails: a missing install step must never
pass as a skip. On a developer's machine it skips, naming what to install.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(message: str) -> NoReturn:
    """Fail in CI, skip elsewhere; ``message`` says what to install."""
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
