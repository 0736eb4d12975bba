"""Safe shutdown of the kit: ask systemd (through logind) to power the Pi off.

The kit's service runs as the unprivileged ``vigkit`` user; ``systemctl poweroff`` sends
logind's ``PowerOff`` call over D-Bus, and the polkit rule that ``scripts/install.sh``
installs (``systemd/50-vigkit.rules``) allows that one action, and setting the clock, for
that user only. Anything else (no rule, another user) is refused by polkit, and we say so.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Sequence

from device.errors import HardwareError

log = logging.getLogger(__name__)

# --no-ask-password: a service has no terminal; without a polkit rule we want a refusal,
# not a hang waiting for an agent. --no-wall: the kit has no logged-in people to warn.
POWEROFF_COMMAND: tuple[str, ...] = ("systemctl", "--no-ask-password", "--no-wall", "poweroff")

_HINT = (
    "Run scripts/install.sh again (it installs the rule that lets the kit power off), "
    "or unplug the kit once its light has stopped flashing."
)


class PowerOffRefused(HardwareError):
    """systemd/polkit refused to power the kit off, or systemctl is missing."""

    hint = _HINT


def request_poweroff(command: Sequence[str] = POWEROFF_COMMAND, timeout_s: float = 30.0) -> None:
    """Ask the system to shut down cleanly now; return once systemd has accepted.

    Raises PowerOffRefused (a HardwareError) with the reason when the request is refused
    (no polkit rule, wrong user, no systemd), so the caller can show a fault on the LED.
    ``command`` exists for tests; the kit always uses the default.
    """
    if shutil.which(command[0]) is None:
        raise PowerOffRefused(f"cannot power off: {command[0]} is not installed on this system")
    log.info("asking systemd to power the kit off")
    try:
        done = subprocess.run(
            list(command), capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise PowerOffRefused(f"cannot power off: {command[0]} did not answer in time") from e
    except OSError as e:
        raise PowerOffRefused(f"cannot power off: {e.strerror}") from e
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()
        raise PowerOffRefused(
            "the system refused to power off"
            + (f": {reason[-1]}" if reason else f" (exit status {done.returncode})")
        )
