"""The shared review's prompts: the questions asked after each moment, editable per kit.

Kept like the kit's principles (``device.library.kit_lists``): one kit-level file,
``prompts.age`` in the data folder, encrypted to the kit and the office, because words a
person typed are only ever stored encrypted and the prompts are needed only while the kit
is unlocked; not in the plaintext config, which the page never writes. Without the
file, the three seed questions of VIG.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from device import age
from device.errors import NotesError
from device.library.kit_lists import load_list, save_list
from device.library.layout import DataDir

PROMPTS_FILE = "prompts.age"
MAX_PROMPTS = 6
PROMPT_LIMIT = 200
DEFAULT_PROMPTS = (
    "What did you notice going well?",
    "How did your child respond to you here?",
    "What helped that moment work?",
)


def check_prompts(lines: Sequence[Any]) -> list[str]:
    clean = [str(line).strip() for line in lines if str(line).strip()]
    if not 1 <= len(clean) <= MAX_PROMPTS:
        raise NotesError(f"write between 1 and {MAX_PROMPTS} prompts, one per line")
    if any(len(line) > PROMPT_LIMIT for line in clean):
        raise NotesError(f"each prompt must be at most {PROMPT_LIMIT} characters")
    return clean


def load_prompts(data: DataDir, identities: Sequence[age.Identity]) -> list[str]:
    path = data.root / PROMPTS_FILE
    return load_list(path, DEFAULT_PROMPTS, check_prompts, identities, "review prompts")


def save_prompts(
    data: DataDir, lines: Sequence[str], recipients: Sequence[age.Recipient]
) -> list[str]:
    return save_list(data.root / PROMPTS_FILE, lines, check_prompts, recipients)
