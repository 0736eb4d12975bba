"""Small helpers the subcommands share: reading keys and passphrases from the user."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from device import age
from device.errors import AgeError, ConfigError, VigKitError


def read_passphrase_file(path: Path) -> str:
    try:
        text = path.read_text()
    except OSError as e:
        raise VigKitError(
            f"cannot read the passphrase file {path}: {e.strerror}",
            hint="Check the path, or leave --passphrase-file out to be asked.",
        ) from e
    return text.rstrip("\r\n")


def load_identity_files(
    paths: list[Path], passphrase_file: Path | None = None
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


def read_recipient_args(strings: Sequence[str], files: Sequence[Path]) -> list[age.Recipient]:
    """The public keys given with ``-r age1…`` and in ``-R`` recipients files, as age reads them."""
    recipients = [r for s in strings for r in age.parse_recipients(s)]
    for f in files:
        try:
            recipients += age.parse_recipients(f.read_text())
        except OSError as e:
            raise ConfigError(f"cannot read the recipients file {f}: {e.strerror}") from e
    return recipients
