"""Fixtures for media tests: one short recording shared by the tests that only read it."""

from __future__ import annotations

import pytest

from tests.media.media_helpers import Recording, record


@pytest.fixture(scope="session")
def five_seconds() -> Recording:
    return record(5.0)
