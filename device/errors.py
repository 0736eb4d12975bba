"""One error hierarchy for the whole kit.

Every error carries a message (what happened) and a hint (what to do next), so the CLI
and the web page can show both without a stack trace. Leaves also inherit the builtin
that fits, so callers that only know ``ValueError`` or ``OSError`` still catch them.
"""

from __future__ import annotations

import contextlib
import errno
import sys
from collections.abc import Iterator


class VigKitError(Exception):
    """Base of every error the kit raises on purpose."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def explain(self) -> str:
        """The message and, on its own line, the hint."""
        return f"{self.message}\n{self.hint}" if self.hint else self.message


# --- age encryption -------------------------------------------------------------------


class AgeError(VigKitError):
    """Anything wrong with an age file, key or passphrase."""


class KeyFormatError(AgeError, ValueError):
    hint = (
        "Check the key was copied whole: recipients start with age1, "
        "identities with AGE-SECRET-KEY-1."
    )


class NoIdentityMatch(AgeError):
    hint = (
        "This file was encrypted to other keys. Use the office key or unlock the kit that made it."
    )


class WrongPassphrase(NoIdentityMatch):
    hint = "Check the passphrase (it is case sensitive) and try again."


class WorkFactorTooHigh(AgeError):
    hint = (
        "The file asks for more passphrase work than this kit accepts; it was not made by VIG Kit."
    )


class WeakPassphrase(AgeError, ValueError):
    hint = (
        "Take the five words vigkit setup offers, or choose five or more uncommon words "
        "that are not a saying, a name or a place."
    )


class HeaderError(AgeError, ValueError):
    hint = "The start of the file is damaged or it is not an age file. Use another copy."


class HeaderTruncated(HeaderError):
    """The file ends before its header does: nothing after it was ever written."""


class HeaderMacError(HeaderError):
    hint = "The file's header was altered or damaged. Use another copy."


class ArmorError(HeaderError):
    hint = "The text-armored file is damaged. Copy it again without changing any line."


class PayloadError(AgeError, ValueError):
    """The encrypted body is damaged."""

    hint = "The file is damaged. Use another copy; an unfinished recording can be salvaged."


class TruncatedError(PayloadError):
    hint = (
        "The file ends early (was it still being written, or cut short by a power loss?). "
        "Salvage keeps every complete part: vigkit office decrypt --salvage."
    )


class ChunkAuthError(PayloadError):
    """A chunk failed authentication; ``chunk`` is its 0-based index."""

    def __init__(self, chunk: int, message: str | None = None) -> None:
        super().__init__(message or f"part {chunk} of the file failed authentication")
        self.chunk = chunk


class RecipientError(AgeError, ValueError):
    hint = "Encrypt to at least one key; a passphrase must be the only recipient of a file."


# --- configuration and the library ---------------------------------------------------


class ConfigError(VigKitError, ValueError):
    hint = "Fix the settings named above and start again."


class LibraryError(VigKitError):
    """The data directory, the index or the audit log."""


class NotFound(LibraryError, KeyError):
    hint = "Check the recording's id; the list of recordings shows every id."

    def __str__(self) -> str:  # KeyError quotes its argument; we want the sentence
        return self.message


class RecipientsChanged(LibraryError):
    """keys/recipients.txt no longer matches the recipients pinned in the kit's key."""

    hint = (
        "Someone has changed which keys this kit encrypts to. Do not record on it; take it "
        "to the office, who will check it and set the kit up again."
    )

    def __init__(self, message: str, unknown: list[str], missing: list[str]) -> None:
        super().__init__(message)
        self.unknown = unknown
        self.missing = missing


class StorageFull(LibraryError, OSError):
    hint = "Free space by syncing to the office, or use a larger card."


class CardFull(StorageFull):
    """A save refused by the card (full, over quota, or turned read-only by the kernel
    after an error): nothing was written, what was there before is intact. ``lost`` says
    what was not saved, so the sentence stands next to it on the page."""

    hint = "Erase films that are safe at the office (Settings → Space), then save again."

    def __init__(
        self,
        lost: str = "your words were not saved",
        *,
        generic: bool = False,
        hint: str | None = None,
    ) -> None:
        super().__init__(f"the kit's card is full: {lost}", hint=hint)
        self.generic = generic  # raised low down (a file, the index): a caller may say what


# what the kernel and SQLite answer when the card takes no more: full, over quota, or
# remounted read-only (the kernel does that after a write error on the card)
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})
_SQLITE_FULL = frozenset({13, 8})  # SQLITE_FULL, SQLITE_READONLY


def _sqlite_errors() -> tuple[type[Exception], ...]:
    """``sqlite3.Error`` if SQLite is loaded, else nothing: an error of a module never
    imported cannot have been raised. Not imported here, because ``vigkit office
    decrypt|encrypt`` load this module and nothing of SQLite (sqlite3 with datetime
    cost their start ~3 ms; docs/performance.md, tests/test_office_cli.py)."""
    sqlite3 = sys.modules.get("sqlite3")
    return () if sqlite3 is None else (sqlite3.Error,)


def is_card_full(e: BaseException) -> bool:
    """Whether ``e`` (or what caused it) is the card refusing a write."""
    sqlite_errors = _sqlite_errors()
    seen: BaseException | None = e
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in FULL_ERRNOS:
            return True
        if isinstance(seen, sqlite_errors) and (
            (getattr(seen, "sqlite_errorcode", 0) or 0) & 0xFF in _SQLITE_FULL
            or "disk is full" in str(seen)  # Python 3.10's errors carry no code
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@contextlib.contextmanager
def card_full_as(lost: str) -> Iterator[None]:
    """Around one save: the card refusing it becomes :class:`CardFull` saying ``lost``
    (what was not saved: "the clip was not saved"), every other error passes unchanged.
    A CardFull raised below without knowing what it saved takes these words."""
    try:
        yield
    except CardFull as e:
        if not e.generic:
            raise  # already says what was lost, nearer to the save
        raise CardFull(lost) from e.__cause__
    except Exception as e:  # an OSError or SQLite's (see _sqlite_errors); others pass
        if not isinstance(e, (OSError, *_sqlite_errors())) or not is_card_full(e):
            raise
        raise CardFull(lost) from e


# --- recording and hardware ----------------------------------------------------------


class RecordingError(VigKitError):
    """The recorder could not start, keep going or finish."""


class HardwareError(RecordingError):
    """A camera, microphone, button or LED is missing or failed."""


class CameraError(HardwareError):
    hint = "Check the camera cable is seated (blue side to the board) and restart the kit."


class MicrophoneError(HardwareError):
    hint = "Check the USB microphone is plugged in; recording continues without sound."


class GpioError(HardwareError):
    hint = "Check the pin numbers in the settings and that the kit's user is in the gpio group."


class SealPaused(RecordingError):
    """A recording started while an interrupted film was being repaired: the repair
    stops, leaves the original as it was, and starts again once the kit is idle."""

    hint = "The repair starts again by itself when the recording ends."


class StopTooSoon(RecordingError):
    """A Stop from the phone within two seconds of the start (a double tap): asked once
    more, so a slip never leaves a film of nothing. The kit's own button is not asked."""

    hint = "Tap Stop again if you meant to stop it; the film keeps recording otherwise."


class MediaError(RecordingError):
    """Muxing or reading the recorded MP4 went wrong."""


class MuxerError(MediaError):
    hint = "Stop and start a new recording; the part recorded so far is kept."


class MediaFormatError(MediaError, ValueError):
    hint = (
        "The recording's MP4 structure is damaged; it may have been cut short. "
        "Salvage keeps every complete part."
    )


# --- notes, clips and stills (issue #5) ----------------------------------------------


class NotesError(VigKitError, ValueError):
    """Something typed into the notes cannot be kept as it is."""

    hint = "Change what the sentence above describes, then save again."


class CaseError(VigKitError, ValueError):
    """Something about a case (its code, consent, cycles) that cannot be kept as given."""

    hint = "Correct the field named above and save again."


class CaseConflict(CaseError):
    """Two edits of the same case that cannot both be kept, or a code already in use."""

    hint = "Reload the case to see the latest version, then make your change again."


class ConsentMissing(CaseError):
    """Filming (from the page or the API) into a case without recorded consent."""

    hint = "Open the case and go through the consent with the parent first."


class ExportError(MediaError):
    """A clip or a still could not be made."""

    hint = "Try again; if it keeps failing, the film itself may be damaged."


class ClipRangeError(ExportError, ValueError):
    hint = "Set the in point before the out point, both inside the film."


# --- sync to the office and the office's tools (issue #6) ----------------------------


class SyncError(VigKitError):
    """Sending files to the office's storage failed; nothing was removed from the kit."""

    hint = "Nothing was lost: the kit keeps every file until the office copy is verified."


class SyncNotConfigured(SyncError, ValueError):
    hint = "Set sync_remote (an rclone remote:path) in the kit's settings; see docs/office.md."


class SyncBusy(SyncError):
    hint = "Another sync is running; wait for it to finish, then try again."


class RcloneMissing(SyncError, FileNotFoundError):
    hint = "Install rclone (sudo apt install rclone) or run scripts/bootstrap.sh."


class RemoteUnreachable(SyncError, ConnectionError):
    hint = "Check the kit has a network connection and the office server is switched on."


class RemoteAuthError(SyncError, PermissionError):
    hint = "Check the user name and password (or key) in the kit's rclone config."


class RemoteFull(SyncError, OSError):
    hint = "Free space on the office storage (or give it more), then sync again."


class SyncInterrupted(SyncError):
    hint = "Sync again: files that arrived are kept and are not sent twice."


class VerificationFailed(SyncError):
    hint = (
        "The office copy differs from the kit's; it was not marked as synced. "
        "Sync again; if it keeps failing, check the office storage."
    )


class ArchiveError(VigKitError):
    """A synced archive at the office cannot be read as expected."""

    hint = "Point at the folder the kits sync into (it holds <kit-id>/ folders or manifests)."


class OutputNotEmpty(ArchiveError, FileExistsError):
    hint = "Choose an empty folder, or add --force to write into this one."


# --- HTTPS on the hotspot: the organisation's CA and the kit's certificate (issue #17) --


class TlsError(VigKitError, ValueError):
    """A certificate, key, request or certificate authority that cannot be used as given."""

    hint = (
        "Check the files named above; docs/office.md (The kits' certificate authority) "
        "gives every step."
    )


class TlsMissing(TlsError):
    """The kit has no certificate installed (or only part of one)."""

    hint = (
        "Give the kit its certificate: on the kit, vigkit tls request --out kit.csr; at the "
        "office, vigkit office ca issue --csr kit.csr; on the kit, vigkit tls install --cert "
        "KIT-ID.crt (docs/office.md, The kits' certificate authority)."
    )
