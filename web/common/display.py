"""Words and numbers both pages show the same way: durations, and the review's prompts."""

from __future__ import annotations

# The reflective prompts after each moment of the shared review, in turn (UI.md).
PROMPTS = (
    "What did you notice going well?",
    "How did your child respond to you here?",
    "What helped that moment work?",
)


def clock_text(seconds: float | None) -> str:
    """0:07, 12:34, 1:02:03."""
    if seconds is None:
        return "0:00"
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
