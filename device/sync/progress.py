"""A one-line progress bar for a terminal; plain lines when output is not a terminal
(a log, a pipe), so systemd's journal gets words rather than carriage returns."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def size_text(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} GB"


class Bar:
    WIDTH = 28

    def __init__(self, out: TextIO | None = None, *, quiet: bool = False) -> None:
        self._out = out or sys.stderr
        self._tty = self._out.isatty()
        self._quiet = quiet
        self._label = ""
        self._drawn = 0.0

    def update(self, label: str, done: float, total: float, unit: str = "bytes") -> None:
        if self._quiet:
            return
        if not self._tty:
            if label != self._label:  # one line per phase
                self._label = label
                print(f"vigkit: {label}", file=self._out, flush=True)
            return
        now = time.monotonic()
        if label == self._label and now - self._drawn < 0.1 and done < total:
            return
        self._label, self._drawn = label, now
        share = min(1.0, done / total) if total else 0.0
        filled = int(share * self.WIDTH)
        amount = (
            f"{size_text(done)} of {size_text(total)}"
            if unit == "bytes"
            else f"{done:.0f}/{total:.0f}"
        )
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self._out.write(f"\r{label:<14} [{bar}] {share:4.0%} {amount}\033[K")
        self._out.flush()

    def finish(self) -> None:
        if self._tty and self._label and not self._quiet:
            self._out.write("\n")
            self._out.flush()
        self._label = ""
