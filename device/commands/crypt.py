"""``vigkit office decrypt`` and ``vigkit office encrypt``: what ``age -d`` and ``age -r`` do.

These run in a process that loads :mod:`device.age` and nothing else of the kit (no
PyAV, numpy, Flask or SQLite): the office decrypts whole films with them, and a process
start that imported the whole kit took longer than the decryption (docs/performance.md).
For the same reason the output file is written here, not with
:func:`device.library.atomic_writer`: importing the ``device.library`` package loads
SQLite and the notes store; and paths are plain strings (``os.path``), as pathlib with
urllib.parse and ipaddress took ~4 ms of each start.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import BinaryIO

from device import age
from device.commands.common import load_identity_files, read_passphrase_file, read_recipient_args
from device.errors import AgeError, NoIdentityMatch, VigKitError, WrongPassphrase


class FileOpener:
    """The identity ``decrypt`` uses, choosing as ``age -d`` does once it sees the header.

    A passphrase-encrypted (scrypt) file is opened with the passphrase itself; any other
    file with the ``-i`` key files, where a protected one (the kit's key) is unlocked with
    the same passphrase. Key files are read only when needed.
    """

    def __init__(self, key_files: list[str], passphrase_file: str | None) -> None:
        self._key_files = key_files
        self._passphrase_file = passphrase_file

    def unwrap(self, stanzas: tuple[age.Stanza, ...]) -> bytes | None:
        if any(s.type == "scrypt" for s in stanzas):
            return self._with_passphrase(stanzas)
        if not self._key_files:
            raise NoIdentityMatch(
                "this file is encrypted to keys, not to a passphrase, and no key file was given",
                hint="Give the office key (or the kit's key and its passphrase) with -i.",
            )
        for identity in load_identity_files(self._key_files, self._passphrase_file):
            file_key = identity.unwrap(stanzas)
            if file_key is not None:
                return file_key
        return None

    def _with_passphrase(self, stanzas: tuple[age.Stanza, ...]) -> bytes:
        if self._passphrase_file is None:
            raise AgeError(
                "this file is protected by a passphrase",
                hint="Put the passphrase in a file and give it with --passphrase-file.",
            )
        file_key = age.ScryptIdentity(read_passphrase_file(self._passphrase_file)).unwrap(stanzas)
        if file_key is None:
            raise WrongPassphrase("the passphrase does not open this file")
        return file_key


@contextlib.contextmanager
def output(path: str | None) -> Iterator[BinaryIO]:
    """Standard output, or a new file that appears at ``path`` only once it is complete.

    A file is written beside ``path`` under a hidden name and renamed when done (after
    an fsync, as every file the kit writes); on any error it is removed, so a failed
    decryption leaves nothing behind. A symbolic link is followed, and what is not a
    regular file (``/dev/null``, a named pipe) is written to as it is, never replaced.
    """
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = os.path.realpath(path)
    if os.path.exists(target) and not os.path.isfile(target):
        with open(target, "wb", buffering=0) as f:
            yield f
        return
    folder, name = os.path.split(target)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb", buffering=0) as f:  # whole chunks: no buffer needed
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _input(path: str | None) -> Iterator[BinaryIO]:
    if path is None:
        yield sys.stdin.buffer
        return
    with open(path, "rb", buffering=0) as f:
        yield f  # a raw FileIO: readinto without a second copy


@contextlib.contextmanager
def _plain_errors() -> Iterator[None]:
    try:
        yield
    except OSError as e:
        where = f" {e.filename}" if e.filename else ""
        raise VigKitError(f"cannot read or write the file{where}: {e.strerror}") from e


def decrypt_command(args: argparse.Namespace) -> int:
    if not args.identity and args.passphrase_file is None:
        raise VigKitError(
            "decrypt needs a key file or a passphrase",
            hint="Give the office key with -i, or a passphrase file with --passphrase-file.",
        )
    opener = FileOpener(args.identity or [], args.passphrase_file)
    with _plain_errors(), _input(args.input) as src, output(args.output) as out:
        if not args.salvage:
            age.decrypt(src, [opener], out)
            return 0
        return _salvage(src, out, opener)


def _salvage(src: BinaryIO, out: BinaryIO, opener: FileOpener) -> int:
    if not src.seekable():
        raise VigKitError(
            "--salvage needs a file, not standard input", hint="Name the .age file to salvage."
        )
    reader = age.Reader(src, [opener], allow_unfinished=True)
    if _film_salvaged(reader, out):
        return 0
    reader.seek(0)
    report = age.copy_intact(reader, out)
    end = "complete" if report.was_complete else "cut short"
    if report.lost:
        lost = sum(b - a for a, b in report.lost)
        ranges = ", ".join(f"{a:,}–{b:,}" for a, b in report.lost)
        print(
            f"vigkit: the file was damaged ({end}); kept {report.bytes_kept:,} bytes, "
            f"left out the {lost:,} bytes that failed authentication (bytes {ranges})",
            file=sys.stderr,
        )
    elif report.was_complete:
        print(f"vigkit: the file was complete; decrypted {reader.size:,} bytes", file=sys.stderr)
    else:
        print(
            f"vigkit: the file was cut short; kept the {reader.size:,} bytes that authenticated",
            file=sys.stderr,
        )
    return 0


def _film_salvaged(reader: age.Reader, out: BinaryIO) -> bool:
    """A film is salvaged by whole fragments so it still plays; False if this is not a
    film, or its start is too damaged to rebuild one (then the parts are kept as bytes)."""
    if reader.chunks == 0 or not _starts_like_mp4(reader):
        return False
    # only here: the media package loads PyAV and numpy, which plain decryption never needs
    from device.errors import MediaFormatError
    from device.media.salvage import salvage_film

    try:
        film = salvage_film(reader, out)
    except MediaFormatError:
        return False
    cut = "" if reader.complete else " and cut short"
    if film.gaps:
        at = ", ".join(_clock(start) for start, _ in film.gaps)
        said = f"damaged{cut}; kept {film.kept_s:.1f} s, lost about {film.lost_s:.1f} s at {at}"
    else:
        said = f"{'cut short' if cut else 'whole'}; kept {film.kept_s:.1f} s"
    print(f"vigkit: the film was {said}", file=sys.stderr)
    return True


def _starts_like_mp4(reader: age.Reader) -> bool:
    first = reader.chunk(0)
    return first is not None and bytes(first[4:8]) == b"ftyp"


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def encrypt_command(args: argparse.Namespace) -> int:
    recipients = read_recipient_args(args.recipient, args.recipients_file)
    if not recipients:
        raise VigKitError(
            "encrypt needs at least one public key",
            hint="Give the office's age1… key with -r, or a recipients file with -R.",
        )
    with (
        _plain_errors(),
        _input(args.input) as src,
        output(args.output) as out,
        age.Writer(out, recipients, armor=args.armor, close_output=False) as writer,
    ):
        writer.write_from(src)
    return 0
