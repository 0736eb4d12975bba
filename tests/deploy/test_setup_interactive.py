"""``vigkit setup`` asked on a terminal (a pseudo-terminal here): each question in turn,
a weak passphrase refused with the reason, a mismatch asked again, defaults taken."""

from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path

from device import config
from tests.recording.conftest import VIGKIT, OfficeKey

STRONG = "amber river candle otter"


def _converse(args: list[str], script: list[tuple[str, str]], timeout: float = 60) -> str:
    """Run ``args`` on a pty; for each (prompt, answer) wait for prompt, type answer."""
    controller, tty = os.openpty()
    proc = subprocess.Popen(args, stdin=tty, stdout=tty, stderr=tty, start_new_session=True)
    os.close(tty)
    seen, pending, deadline = "", list(script), time.monotonic() + timeout
    answered_at = 0
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:  # the child closed the terminal
                    break
                seen += chunk.decode(errors="replace")
            if pending:
                at = seen.find(pending[0][0], answered_at)
                if at >= 0:
                    answered_at = at + len(pending[0][0])
                    os.write(controller, pending.pop(0)[1].encode() + b"\n")
            elif proc.poll() is not None and not ready:
                break
        code = proc.wait(timeout=5)
    finally:
        os.close(controller)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0 and not pending, seen
    return seen


def test_interactive_setup_asks_each_question(tmp_path: Path, office_key: OfficeKey) -> None:
    conf = tmp_path / "vigkit.toml"
    args = [*VIGKIT, "setup", "--config", str(conf), "--data", str(tmp_path / "data"),
            "--label", str(tmp_path / "label.svg")]  # fmt: skip
    seen = _converse(
        args,
        [
            ("public key (age1…)", office_key.public),
            ("Passphrase: ", "short"),
            ("Passphrase: ", STRONG),
            ("Again, to be sure: ", "something else entirely"),
            ("Passphrase: ", STRONG),
            ("Again, to be sure: ", STRONG),
            ("The kit's name [vigkit]: ", "Lounge kit"),
            ("Wi-Fi name [VIG Kit Lounge kit]: ", ""),
        ],
    )
    assert "too weak: it has 5 characters" in seen
    assert "The two did not match" in seen
    assert STRONG not in seen and "GetPassWarning" not in seen  # passphrases are not echoed
    cfg = config.load(conf)
    assert cfg.kit_name == "Lounge kit" and cfg.wifi_name == "VIG Kit Lounge kit"
    assert (tmp_path / "data" / "keys" / "kit-identity.age").exists()
