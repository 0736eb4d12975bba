"""The shared review's prompts: the questions asked after each moment, editable per kit.

Kept like the kit's principles (``device.library.notes.load_principles``): one kit-level
file, ``prompts.age`` in the data folder, encrypted to the kit and the office, because
words a person typed are only ever stored encrypted and the prompts are needed only
while the kit is unlocked; not in the plaintext config, which the page never writes.
Without the file, the three seed questions of VIG.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from device import age
from device.errors import NotesError
from device.library.atomic import atomic_write
from device.library.layout import DataDir

PROMPTS_FILE = "prompts.age"
MAX_PROMPTS = 6
PROMPT_LIMIT = 200
DEFAULT_PROMPTS = (
    "What did you notice going well?",
    "How did your child respond to you here?",
    "What helped that moment work?",
)


def check_prompts(lines: Sequence[object]) -> list[str]:
    clean = [str(line).strip() for line in lines if str(line).strip()]
    if not 1 <= len(clean) <= MAX_PROMPTS:
        raise NotesError(f"write between 1 and {MAX_PROMPTS} prompts, one per line")
    if any(len(line) > PROMPT_LIMIT for line in clean):
        raise NotesError(f"each prompt must be at most {PROMPT_LIMIT} characters")
    return clean


def load_prompts(data: DataDir, identities: Sequence[age.Identity]) -> list[str]:
    try:
        ciphertext = (data.root / PROMPTS_FILE).read_bytes()
    except FileNotFoundError:
        return list(DEFAULT_PROMPTS)
    try:
        lines = json.loads(age.decrypt_bytes(ciphertext, identities))
        if not isinstance(lines, list):
            raise TypeError(lines)
        return check_prompts(lines)
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError) as e:
        raise NotesError("the kit's review prompts are damaged") from e


def save_prompts(
    data: DataDir, lines: Sequence[str], recipients: Sequence[age.Recipient]
) -> list[str]:
    clean = check_prompts(lines)
    payload = json.dumps(clean, ensure_ascii=False).encode()
    atomic_write(data.root / PROMPTS_FILE, age.encrypt_bytes(payload, recipients))
    return clean
