"""``vigkit office serve ARCHIVE -i ORG.KEY``: the review page on an office computer.

Opens the organisation's key (asking for its passphrase in a terminal if the file has
one and no ``--passphrase-file`` was given), proves that it opens the archive's files
before anything is served, then serves ``web.office`` with the kit's waitress settings
(``web.common.serving``: nothing decrypted is ever buffered to a file) until Ctrl-C. The key
lives in this process's memory only. The page's address carries an access code made for
this run; it is printed once and never stored.
"""

from __future__ import annotations

import getpass
import secrets
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from device import age
from device.commands.common import (
    load_identity_files,
    read_passphrase_file,
    serve_until_signal,
)
from device.errors import AgeError, NoIdentityMatch, PayloadError, VigKitError
from device.office.kit_register import Register
from device.office.recordings import ArchiveRecordings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
KEY_CHECKS = 5  # files tried to prove the key opens the archive
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class OfficeKey:
    identities: list[age.Identity]
    wrapped: bytes | None  # the key file's ciphertext, if it has a passphrase (the gate)


def load_key(
    paths: Sequence[Path],
    passphrase_file: Path | None,
    *,
    ask: Callable[[str], str] | None = None,
) -> OfficeKey:
    """The office key from ``paths``; a passphrase-protected file is opened with the
    passphrase file, or by asking (``ask``, given only when a person is at a terminal)."""
    wrapped = None
    for path in paths:
        try:
            head = path.read_bytes()
        except OSError as e:
            raise AgeError(
                f"cannot read the key file {path}: {e.strerror}",
                hint="Check the path given with -i (the organisation key from vigkit office"
                " keygen).",
            ) from e
        if age.is_encrypted(head):
            wrapped = wrapped or head
    if wrapped is None or passphrase_file is not None:
        identities = load_identity_files(list(paths), passphrase_file)
    elif ask is None:
        raise AgeError(
            "the key file is protected by a passphrase and none was given",
            hint="Give it with --passphrase-file FILE, or run the command in a terminal to"
            " be asked for it.",
        )
    else:
        passphrase = ask("Passphrase for the office key: ")
        identities = []
        for path in paths:
            identities.extend(age.load_identities(path, passphrase=passphrase))
    if not any(isinstance(i, age.X25519Identity) for i in identities):
        raise AgeError("the key file holds no key", hint="Give the office key file with -i.")
    return OfficeKey(identities, wrapped)


def check_key_opens(recordings: ArchiveRecordings, identities: Sequence[age.Identity]) -> bool:
    """AgeError if the key opens none of the archive's files; False if no file could
    be tried (nothing has arrived yet), True once one opens."""
    tried = 0
    for rec in recordings.all():
        present = [
            (entry.size, rec.folder / entry.name)
            for entry in rec.manifest.files
            if (rec.folder / entry.name).is_file()
        ]
        if not present:
            continue
        _, smallest = min(present)
        tried += 1
        try:
            age.decrypt_bytes(smallest.read_bytes(), identities)
            return True
        except NoIdentityMatch:
            pass
        except (PayloadError, OSError):  # damaged or unreadable: try another recording
            tried -= 1
        if tried >= KEY_CHECKS:
            break
    if tried:
        raise AgeError(
            f"this key opens none of the files in {recordings.root}",
            hint="Give the organisation key whose public key the kits encrypt to (it is in"
            " each kit's recipients.txt).",
        )
    return False


def serve(
    archive: Path,
    key_paths: Sequence[Path],
    passphrase_file: Path | None,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    register: Register,
    out: TextIO = sys.stdout,
) -> int:
    """Serve the office page until SIGINT or SIGTERM; 0 once stopped cleanly. Only what
    a kit enrolled in the office's ``register`` signed is shown."""
    from web.common.serving import make_server
    from web.office import Gate, create_office_app  # the page is needed by this command only

    recordings = ArchiveRecordings(archive, register)  # ArchiveError: not an archive
    for kit in recordings.scan():
        for line in kit.unreadable:
            print(f"Left out: {line}", file=out)
    if passphrase_file is not None:
        read_passphrase_file(passphrase_file)  # a clear error before anything else
    ask = getpass.getpass if sys.stdin.isatty() else None
    key = load_key(key_paths, passphrase_file, ask=ask)
    opened = check_key_opens(recordings, key.identities)
    code = secrets.token_urlsafe(24)
    app = create_office_app(recordings, key.identities, Gate(code, key.wrapped))
    try:
        server = make_server(app, host, port)
    except OSError as e:
        raise VigKitError(
            f"cannot serve the page on {host}:{port}: {e.strerror}",
            hint="Choose another port with --port (0 picks a free one), or stop the program"
            " using this one.",
        ) from e

    shown_host = DEFAULT_HOST if host in ("0.0.0.0", "::", "") else host  # noqa: S104
    url_host = f"[{shown_host}]" if ":" in shown_host else shown_host
    print(f"VIG Kit office: open http://{url_host}:{server.port}/?token={code}", file=out)
    print("Only this address opens the page (the code is new each time).", file=out)
    if host not in LOOPBACK:
        print(
            "Note: other computers on the network can reach this page; the films travel"
            " to them without encryption (plain HTTP).",
            file=out,
        )
    if not opened:
        print("Note: no file of the archive has arrived yet, so the key is unchecked.", file=out)
    print("Press Ctrl-C to stop.", file=out, flush=True)
    try:
        serve_until_signal(server)
    finally:
        server.close()
        app.close()
    print("Stopped.", file=out, flush=True)
    return 0
