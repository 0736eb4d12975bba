"""Kit-level lists of words the team edits (the principles, the review's prompts): one small
JSON list each, in its own file in the data folder, encrypted to the kit and the office.

Words a person typed are only ever stored encrypted, and these lists are needed only
while the kit is unlocked. A missing file means the list's defaults; a file that does not
decrypt to a JSON list is refused with a sentence.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from device import age
from device.errors import NotesError
from device.library.atomic import atomic_write

Check = Callable[[Any], list[str]]


def load_list(
    path: Path, defaults: Sequence[str], check: Check, identities: Sequence[age.Identity], what: str
) -> list[str]:
    """The list in ``path`` as ``check`` passes it, or ``defaults`` without the file."""
    try:
        ciphertext = path.read_bytes()
    except FileNotFoundError:
        return list(defaults)
    try:
        values = json.loads(age.decrypt_bytes(ciphertext, identities))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise NotesError(f"the kit's {what} are damaged") from e
    if not isinstance(values, list):
        raise NotesError(f"the kit's {what} are damaged")
    return check(values)


def save_list(
    path: Path, values: Sequence[str], check: Check, recipients: Sequence[age.Recipient]
) -> list[str]:
    clean = check(list(values))
    payload = json.dumps(clean, ensure_ascii=False).encode()
    atomic_write(path, age.encrypt_bytes(payload, recipients))
    return clean
