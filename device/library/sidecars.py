"""A recording's small encrypted files beside its film (index, markers, notes).

Each is encrypted in memory to the kit's recipients and written atomically, so none is
ever on the card in the clear, and a power cut leaves the old file or the new one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from device import age
from device.library.atomic import atomic_write
from device.library.layout import DataDir


def write_encrypted(
    data: DataDir, rec_id: str, kind: str, payload: bytes, recipients: Sequence[age.Recipient]
) -> None:
    atomic_write(data.derived(rec_id, kind), age.encrypt_bytes(payload, recipients))


def write_encrypted_json(
    data: DataDir, rec_id: str, kind: str, value: object, recipients: Sequence[age.Recipient]
) -> None:
    payload = json.dumps(value, separators=(",", ":")).encode()
    write_encrypted(data, rec_id, kind, payload, recipients)
