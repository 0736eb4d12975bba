"""Fixtures the attack replays share with the recording tests (the office's key pair)."""

from tests.recording.conftest import office_key

__all__ = ["office_key"]
