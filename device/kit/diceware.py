"""Generated passphrases: five words drawn at random from the EFF's large word list.

7,776 words (6^5, one roll of five dice each), so five words are about 64.6 bits:
2^64 guesses is hundreds of millions of years at the rate device.age.strength assumes for
a stolen card's thief. The list is vendored beside this module with its CC BY 3.0
licence and a note on where it came from (wordlists/eff_large_wordlist.LICENSE.txt).
"""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path

WORDLIST = Path(__file__).with_name("wordlists") / "eff_large_wordlist.txt"
WORDS = 5
LIST_SIZE = 7776


@cache
def words() -> tuple[str, ...]:
    found = tuple(WORDLIST.read_text(encoding="utf-8").split())
    if len(found) != LIST_SIZE:  # a damaged install would silently weaken every passphrase
        raise RuntimeError(f"{WORDLIST} has {len(found)} words where {LIST_SIZE} were expected")
    return found


def generate(count: int = WORDS) -> str:
    """``count`` words chosen with the system's cryptographic random source, spaced."""
    return " ".join(secrets.choice(words()) for _ in range(count))
