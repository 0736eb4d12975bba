"""How hard a passphrase is to guess, estimated with zxcvbn, and the rule it must meet.

The passphrase is the only lock on a stolen card's films: the thief copies the kit's
identity file and guesses offline, as fast as their computers run scrypt. zxcvbn estimates
how many guesses a smart attacker needs (dictionary words, names, years, keyboard runs,
l33t and repeats) rather than counting character classes; anything under
:data:`MIN_GUESSES` is refused with a sentence that says how long it would last.
"""

from __future__ import annotations

from device.errors import WeakPassphrase

# 10^12 guesses at THIEF_GUESSES_PER_S is about 30 years.
MIN_GUESSES = 10**12
# What a determined thief is assumed to manage against scrypt logN 16-17: one guess
# costs 0.2-0.4 s and 64-128 MiB on one x86 core (tests/security prints the figures
# here), so 1000 a second is a few hundred rented cores, or a GPU farm. Generous on purpose.
THIEF_GUESSES_PER_S = 1000
# zxcvbn's matching grows quickly with length; a passphrase longer than this is estimated
# on its start (already far above the minimum) so a pasted paragraph cannot stall setup.
_ESTIMATE_CHARS = 100
# Words an attacker tries first against this kit whatever else they know.
_OWN_WORDS = ("vigkit", "vig", "kit", "video", "interaction", "guidance")

_UNITS = (
    (365.25 * 86400, "year"),
    (86400, "day"),
    (3600, "hour"),
    (60, "minute"),
    (1, "second"),
)


def estimated_guesses(passphrase: str, own_words: tuple[str, ...] = ()) -> float:
    """zxcvbn's estimate of the guesses needed, knowing this kit's own words."""
    from zxcvbn import zxcvbn  # only here: its word lists would slow every office decrypt

    words = [*_OWN_WORDS, *(w for w in own_words if w)]
    return float(zxcvbn(passphrase[:_ESTIMATE_CHARS], user_inputs=words)["guesses"])


def check_passphrase(passphrase: str, own_words: tuple[str, ...] = ()) -> None:
    """Refuse with a :class:`WeakPassphrase` whatever a stolen card's thief guesses soon.

    ``own_words`` (the kit's name, its Wi-Fi name) count as known to the attacker."""
    guesses = estimated_guesses(passphrase, own_words)
    if guesses < MIN_GUESSES:
        raise WeakPassphrase(
            "the passphrase is too weak: it could be guessed in about "
            f"{time_to_guess(guesses)} by a stolen card's thief"
        )


def time_to_guess(guesses: float) -> str:
    """``guesses`` at the thief's rate, in words: "3 days", "under a second"."""
    seconds = guesses / THIEF_GUESSES_PER_S
    for size, unit in _UNITS:
        if seconds >= size:
            count = round(seconds / size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "under a second"
