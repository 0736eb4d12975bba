"""Small helpers the subcommands share: keys and passphrases, serving until a signal.

Paths are taken as any path-like (``vigkit office decrypt|encrypt`` pass plain strings:
they start without pathlib, docs/performance.md), so files are opened with ``open``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Protocol

from device import age
from device.errors import AgeError, ConfigError, VigKitError

StrPath = str | os.PathLike[str]


def read_passphrase_file(path: StrPath) -> str:
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise VigKitError(
            f"cannot read the passphrase file {path}: {e.strerror}",
            hint="Check the path, or leave --passphrase-file out to be asked.",
        ) from e
    return text.rstrip("\r\n")


def read_file(path: StrPath, what: str, hint: str) -> bytes:
    """The bytes of a file given on the command line; a sentence naming ``what`` it
    should be when it cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise VigKitError(f"cannot read {what} {path}: {e.strerror}", hint=hint) from e


def load_identity_files(
    paths: Sequence[StrPath], passphrase_file: StrPath | None = None
) -> list[age.Identity]:
    """Identities from each file; a passphrase-protected one (like the kit's) is opened
    with the passphrase from ``passphrase_file``."""
    passphrase = read_passphrase_file(passphrase_file) if passphrase_file else None
    identities: list[age.Identity] = []
    for path in paths:
        try:
            identities.extend(age.load_identities(path, passphrase=passphrase))
        except OSError as e:
            raise AgeError(
                f"cannot read the key file {path}: {e.strerror}",
                hint="Check the path given with -i.",
            ) from e
    return identities


def read_recipient_args(strings: Sequence[str], files: Sequence[StrPath]) -> list[age.Recipient]:
    """The public keys given with ``-r age1…`` and in ``-R`` recipients files, as age reads them."""
    recipients = [r for s in strings for r in age.parse_recipients(s)]
    for f in files:
        try:
            with open(f) as text:
                recipients += age.parse_recipients(text.read())
        except OSError as e:
            raise ConfigError(f"cannot read the recipients file {f}: {e.strerror}") from e
    return recipients


class Servable(Protocol):
    """A server that answers on the calling thread until another thread or a signal stops it."""

    def serve(self) -> None: ...

    def stop(self) -> None: ...


def on_stop_signals(stop: Callable[[], object]) -> None:
    """Call ``stop`` on SIGINT (Ctrl-C) or SIGTERM (systemd stopping the service)."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)


def serve_until_signal(server: Servable) -> None:
    """Serve on this thread until SIGINT or SIGTERM; the caller then closes what it opened."""
    on_stop_signals(server.stop)
    server.serve()
