"""``vigkit setup`` asked on a terminal (a pseudo-terminal here): each question in turn,
a weak passphrase refused with the reason, a mismatch asked again, defaults taken."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from device import age, config
from device.kit import diceware
from tests.recording.conftest import VIGKIT, OfficeKey

STRONG = "amber river candle otter"


def _converse(
    args: list[str], script: list[tuple[str, str | Callable[[str], str]]], timeout: float = 60
) -> str:
    """Run ``args`` on a pty; for each (prompt, answer) wait for prompt, type answer (or
    what answer(everything seen so far) returns)."""
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
                    answer = pending.pop(0)[1]
                    typed = answer if isinstance(answer, str) else answer(seen)
                    os.write(controller, typed.encode() + b"\n")
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
    assert "too weak: it could be guessed in about" in seen
    assert "The two did not match" in seen
    assert STRONG not in seen and "GetPassWarning" not in seen  # passphrases are not echoed
    cfg = config.load(conf)
    assert cfg.kit_name == "Lounge kit" and cfg.wifi_name == "VIG Kit Lounge kit"
    assert (tmp_path / "data" / "keys" / "kit-identity.age").exists()


def _offered(seen: str) -> str:
    return re.findall(r"chosen at random for you:\s+(.+?)\s*\n", seen)[-1].strip()


def test_interactive_setup_offers_five_words(tmp_path: Path, office_key: OfficeKey) -> None:
    """Enter takes the generated passphrase; it must be typed again, and it unlocks the key."""
    args = [*VIGKIT, "setup", "--config", str(tmp_path / "c.toml"), "--data",
            str(tmp_path / "data"), "--label", str(tmp_path / "label.svg"),
            "--office-recipient", office_key.public,
            "--kit-name", "k", "--wifi-name", "w"]  # fmt: skip
    seen = _converse(args, [("Passphrase: ", ""), ("Again, to be sure: ", _offered)])
    words = _offered(seen).split()
    assert len(words) == 5 and set(words) <= set(diceware.words())
    wrapped = (tmp_path / "data" / "keys" / "kit-identity.age").read_bytes()
    assert age.unwrap_identity(wrapped, " ".join(words))
