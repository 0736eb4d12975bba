"""Recipients pinned inside the kit's passphrase-wrapped identity file.

``keys/recipients.txt`` is a plain file: anyone holding the card can add a line, and every
later film is also encrypted to a stranger. So the recipients the kit was set up with are
also written, as comments, inside ``keys/kit-identity.age``, which only the passphrase
opens (and which changes on a re-wrap, so a stranger cannot forge it). At each unlock
the recipients in use are compared with the pinned ones; a difference stops the unlock.

The recorder at boot has no passphrase, so it cannot check this itself: a film made while
the file was changed is found afterwards, at the next unlock, by its age header (one
X25519 stanza per pinned recipient, and one that the kit's key opens), and flagged.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from device import age
from device.errors import AgeError, RecipientsChanged
from device.library.atomic import atomic_write
from device.library.layout import DataDir

log = logging.getLogger(__name__)


def check_pinned(key: age.KitKey, in_use: Sequence[str]) -> None:
    """Refuse, naming them, recipients in use that were not pinned (or pinned ones gone)."""
    pinned = key.pinned or ()
    unknown = [r for r in dict.fromkeys(in_use) if r not in pinned]
    missing = [r for r in pinned if r not in in_use]
    if unknown:
        raise RecipientsChanged(
            f"this kit is also encrypting to a key it was not set up with: {', '.join(unknown)}",
            unknown,
            missing,
        )
    if missing:
        raise RecipientsChanged(
            f"a key this kit was set up with is no longer encrypted to: {', '.join(missing)}",
            unknown,
            missing,
        )


def pin(data: DataDir, key: age.KitKey, passphrase: str, in_use: Sequence[str]) -> None:
    """Re-wrap a kit key from before pinning with the recipients in use now, trusted at
    this first unlock. The file keeps its scrypt work factor: an existing kit stays at
    the 16 it was set up with (raising it would double its unlock time unannounced)."""
    wrapped = age.wrap_identity(
        key.identity,
        passphrase,
        key.work_factor,
        pinned=list(dict.fromkeys(in_use)),
        check_strength=False,  # the passphrase in use: refusing it would lock the kit
    )
    atomic_write(data.kit_identity_file, wrapped, 0o600)
    log.info("pinned %d recipients inside %s", len(in_use), data.kit_identity_file.name)


def flagged_films(data: DataDir, key: age.KitKey) -> list[str]:
    """Recording ids whose film header is not exactly the pinned recipients: another count
    of stanzas, a stanza that is not X25519, or none that the kit's key opens."""
    expected = len(key.pinned or ())
    flagged = []
    for film in sorted(data.recordings.glob("*.mp4.age")):
        if not _as_pinned(film, key.identity, expected):
            flagged.append(film.name.split(".", 1)[0])
    return flagged


def _as_pinned(film: Path, identity: age.X25519Identity, expected: int) -> bool:
    try:
        with film.open("rb") as f:
            header, _ = age.read_header(f)
        stanzas = header.stanzas
        return (
            len(stanzas) == expected
            and all(s.type == "X25519" for s in stanzas)
            and identity.unwrap(stanzas) is not None
        )
    except (OSError, AgeError):
        return True  # unreadable or empty: the damaged-film checks say so, not this one


class RecipientGuard:
    """Run at each unlock, once the passphrase has opened the kit's key: pin the
    recipients of a kit from before pinning, then compare, then flag films.

    ``in_use`` gives the recipients the recorder encrypts to (its list in memory and
    ``keys/recipients.txt`` now); ``flagged`` keeps the last unlock's flagged films."""

    def __init__(
        self,
        data: DataDir,
        in_use: Callable[[], list[str]],
        drop: Callable[[list[str]], None] = lambda unknown: None,
    ) -> None:
        """``drop`` takes the unknown recipients out of what the recorder encrypts to."""
        self._data = data
        self._in_use = in_use
        self._drop = drop
        self.flagged: list[str] = []

    def __call__(self, key: age.KitKey, passphrase: str) -> None:
        in_use = self._in_use()
        if key.pinned is None:
            pin(self._data, key, passphrase, in_use)
            key = age.KitKey(key.identity, tuple(dict.fromkeys(in_use)), key.work_factor)
        self.flagged = flagged_films(self._data, key)
        if self.flagged:
            log.warning("films not encrypted to the pinned recipients: %s", self.flagged)
        try:
            check_pinned(key, in_use)
        except RecipientsChanged as e:
            self._drop(e.unknown)  # from now on, until a restart reads the file again
            raise


def recipients_in_use(data: DataDir, loaded: Sequence[age.Recipient]) -> list[str]:
    """What the recorder encrypts to (``loaded`` at boot) and what it will after a restart."""
    found = [str(r) for r in loaded]
    # a missing or broken file: the kit at boot says so; the loaded list stands
    with contextlib.suppress(OSError, AgeError):
        found += [str(r) for r in age.parse_recipients(data.recipients_file.read_text())]
    return list(dict.fromkeys(found))
