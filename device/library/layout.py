"""Where everything lives inside the kit's data directory."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from device.errors import LibraryError, NotFound

# <id> is time-sortable and carries no name: 20261121T103205Z-7f3a09c14be2. The random
# part is 48 bits: the Pi has no real-time clock, so after the clock is set back the same
# second comes round again (ids made before 0.x had 16 bits, and still parse). Always
# ``fullmatch``: ``$`` would let a trailing newline through.
RECORDING_ID = re.compile(r"\d{8}T\d{6}Z-(?:[0-9a-f]{12}|[0-9a-f]{4})")
SUFFIX_BYTES = 6


def new_recording_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(SUFFIX_BYTES)}"


def is_recording_id(text: str) -> bool:
    return RECORDING_ID.fullmatch(text) is not None


def check_recording_id(rec_id: str) -> str:
    """Refuse anything that is not an id (path tricks included) with a plain message."""
    if not is_recording_id(rec_id):
        raise NotFound(f"there is no recording called {rec_id!r}")
    return rec_id


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def recipients_file(self) -> Path:
        return self.keys / "recipients.txt"

    @property
    def kit_identity_file(self) -> Path:
        return self.keys / "kit-identity.age"

    @property
    def signing_key_file(self) -> Path:
        """The kit's Ed25519 key for signing what it syncs (unencrypted: sync is unattended)."""
        return self.keys / "kit-signing.key"

    @property
    def signing_public_file(self) -> Path:
        return self.keys / "kit-signing.pub"

    @property
    def recordings(self) -> Path:
        return self.root / "recordings"

    @property
    def database(self) -> Path:
        return self.root / "kit.sqlite"

    def film(self, rec_id: str) -> Path:
        return self.recordings / f"{check_recording_id(rec_id)}.mp4.age"

    def interrupted_original(self, rec_id: str) -> Path:
        """Where an interrupted film's untouched original is kept once it is sealed."""
        return self.recordings / f"{check_recording_id(rec_id)}.interrupted.mp4.age"

    def derived(self, rec_id: str, kind: str) -> Path:
        """An encrypted derived file: ``notes``, ``index``, ``thumbs``… or an export with
        one extension, such as ``clip-3.mp4`` or ``still-2.jpg``."""
        if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9]+)?", kind):
            raise LibraryError(f"not a derived file kind: {kind!r}")
        return self.recordings / f"{check_recording_id(rec_id)}.{kind}.age"

    def ensure(self) -> DataDir:
        """Create the folders, readable by the kit's user only."""
        try:
            for folder in (self.root, self.keys, self.recordings):
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                folder.chmod(0o700)
        except OSError as e:
            raise LibraryError(
                f"cannot use {self.root} as the data folder: {e.strerror}",
                hint="Choose a folder this user can write to (--data DIR).",
            ) from e
        return self
