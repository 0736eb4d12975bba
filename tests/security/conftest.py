"""Fixtures the attack replays share with the recording, sync and office tests."""

from tests.office.conftest import archive, ram_dir
from tests.sync.conftest import kit, kit_template, office_key

__all__ = ["archive", "kit", "kit_template", "office_key", "ram_dir"]
