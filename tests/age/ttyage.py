"""Drive the real age CLI through a pseudo-terminal: it reads passphrases only from a tty."""

from __future__ import annotations

import fcntl
import os
import select
import subprocess
import termios
import time
from pathlib import Path


def _make_controlling(tty: int) -> None:
    os.setsid()
    fcntl.ioctl(tty, termios.TIOCSCTTY, 0)


def age_tty(*args: str | Path, answers: list[str], timeout: float = 60) -> str:
    """Run ``age`` with ``answers`` typed at each passphrase prompt; return what it printed."""
    controller, tty = os.openpty()
    proc = subprocess.Popen(
        ["age", *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=tty,
        pass_fds=(tty,),
        preexec_fn=lambda: _make_controlling(tty),  # the test is single-threaded
    )
    os.close(tty)
    seen, pending, deadline = b"", list(answers), time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            prompts = seen.lower().count(b"passphrase")
            if pending and prompts > len(answers) - len(pending):
                os.write(controller, pending.pop(0).encode() + b"\n")
            if proc.poll() is not None and not ready:
                break
        code = proc.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        os.close(controller)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = seen.decode(errors="replace")
    assert code == 0, f"age failed: {text}"
    return text
