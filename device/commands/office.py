"""``vigkit office …``: what the organisation's office runs (keygen, decrypt)."""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from device import age
from device.commands.common import load_identity_files
from device.errors import VigKitError
from device.library import atomic_writer


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    office = sub.add_parser("office", help="the office's tools: keys and decryption")
    osub = office.add_subparsers(dest="office_command", metavar="COMMAND", required=True)

    keygen = osub.add_parser("keygen", help="make an organisation key (readable by age)")
    keygen.add_argument("-o", "--output", type=Path, help="write the key here (not stdout)")
    keygen.set_defaults(func=keygen_command)

    dec = osub.add_parser("decrypt", help="decrypt a file, like age -d")
    dec.add_argument(
        "-i",
        "--identity",
        type=Path,
        action="append",
        required=True,
        help="a key file (repeatable); the kit's own key file needs a passphrase",
    )
    dec.add_argument("--passphrase-file", type=Path, help="passphrase for a protected key file")
    dec.add_argument("-o", "--output", type=Path, help="write here (default: stdout)")
    dec.add_argument(
        "--salvage",
        action="store_true",
        help="keep every complete part of a file that was cut short",
    )
    dec.add_argument("input", type=Path, nargs="?", help="the .age file (default: stdin)")
    dec.set_defaults(func=decrypt_command)


def keygen_command(args: argparse.Namespace) -> int:
    identity = age.X25519Identity.generate()
    public = str(identity.recipient())
    text = (
        f"# created: {datetime.now(UTC).isoformat(timespec='seconds')}\n"
        f"# public key: {public}\n{identity}\n"
    )
    if args.output is None:
        sys.stdout.write(text)
        print(f"Public key: {public}", file=sys.stderr)
        return 0
    out: Path = args.output
    if out.exists():
        raise VigKitError(
            f"{out} already exists; it was not overwritten",
            hint="Choose another file name: replacing a key makes its files unreadable.",
        )
    with atomic_writer(out, 0o600) as f:
        f.write(text.encode())
    print(f"Public key: {public}")
    return 0


def decrypt_command(args: argparse.Namespace) -> int:
    identities = load_identity_files(args.identity, args.passphrase_file)
    src: BinaryIO
    src = args.input.open("rb") if args.input else sys.stdin.buffer
    try:
        if args.output is None:
            return _decrypt_into(src, sys.stdout.buffer, identities, args.salvage)
        with atomic_writer(args.output, 0o600) as out:  # no partial OUT on failure
            return _decrypt_into(src, out, identities, args.salvage)
    except OSError as e:
        raise VigKitError(f"cannot read or write the file: {e.strerror}") from e
    finally:
        if args.input:
            src.close()


def _decrypt_into(
    src: BinaryIO, out: BinaryIO, identities: list[age.Identity], salvage: bool
) -> int:
    if not salvage:
        age.decrypt(src, identities, out)
        return 0
    if not src.seekable():
        raise VigKitError(
            "--salvage needs a file, not standard input", hint="Name the .age file to salvage."
        )
    reader = age.Reader(src, identities, allow_unfinished=True)
    shutil.copyfileobj(reader, out, 1 << 20)
    if reader.complete:
        print(f"vigkit: the file was complete; decrypted {reader.size:,} bytes", file=sys.stderr)
    else:
        print(
            f"vigkit: the file was cut short; kept the {reader.size:,} bytes that authenticated",
            file=sys.stderr,
        )
    return 0
