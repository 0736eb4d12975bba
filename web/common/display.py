"""Words and numbers both pages show the same way: durations, space left, and the
review's prompts."""

from __future__ import annotations

from device.library.prompts import DEFAULT_PROMPTS

# The reflective prompts after each moment of the shared review, in turn (UI.md); a kit
# may have its own (device.library.prompts), the office shows these seeds.
PROMPTS = DEFAULT_PROMPTS


def clock_text(seconds: float | None) -> str:
    """0:07, 12:34, 1:02:03."""
    if seconds is None:
        return "0:00"
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def space_text(minutes: float) -> str:
    """Space left for filming in one unit wherever it is shown (Home, Settings): minutes
    up to two hours, whole hours above ("about 159 hours")."""
    if minutes >= 120:
        return f"about {int(minutes // 60)} hours"
    whole = int(minutes)
    return f"{whole} minute{'' if whole == 1 else 's'}"
