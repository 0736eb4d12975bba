"""The office's register of its kits' signing keys, kept outside the archive.

One line per kit: its id (the archive folder it syncs into, ``kit-…``) and its Ed25519
public key (``vigkit-ed25519:…``), added with ``vigkit office kit add``. It lives beside
the organisation's key (``vigkit-kits.txt`` in the same folder), never in the archive:
whoever can write to the archive must not be able to enrol a kit of their own.

Every office command that trusts what is in the archive (verify, serve, export,
annotations, supervision, retention) needs the register (:func:`required`): without
one, a forged archive would look like the kit's own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from device.errors import ArchiveError, VigKitError
from device.library import atomic_write
from device.library.signing import check_signed, parse_public

REGISTER_NAME = "vigkit-kits.txt"


@dataclass(frozen=True)
class Register:
    path: Path
    keys: dict[str, Ed25519PublicKey]

    def check(self, kit: str, data: bytes, where: str) -> None:
        """Refuse ``data`` (a signed JSON file of kit ``kit``) unless the kit is enrolled
        and its key signed it; ArchiveError in a sentence naming ``where``."""
        key = self.keys.get(kit)
        if key is None:
            raise ArchiveError(
                f"{where} comes from kit {kit}, which is not in the office's register of "
                f"kits ({self.path}); its files are not trusted",
                hint=f"If {kit} is one of yours: vigkit office kit add {kit} vigkit-ed25519:…",
            )
        try:
            doc: Any = json.loads(data)
        except ValueError as e:
            raise ArchiveError(f"{where} is damaged: it is not JSON") from e
        if not isinstance(doc, dict):
            raise ArchiveError(f"{where} is not a VIG Kit file")
        check_signed(doc, key, where)


def default_path(key_files: Sequence[Path]) -> Path | None:
    """``vigkit-kits.txt`` beside the first office key file, if it exists."""
    if not key_files:
        return None
    path = key_files[0].parent / REGISTER_NAME
    return path if path.exists() else None


def required(given: Path | None, key_files: Sequence[Path] = ()) -> Register:
    """The register given with ``--kits``, else the one beside the office key; refused
    in a sentence that says how to make one when there is neither."""
    path = given or default_path(key_files)
    if path is None:
        where = (
            f"{key_files[0].parent / REGISTER_NAME} (beside the office key)"
            if key_files
            else f"{REGISTER_NAME} beside the office key, given with --kits FILE"
        )
        raise VigKitError(
            "the office's register of kits was not found, and without it a forged archive "
            "cannot be told from the kits' own; nothing was read or written",
            hint=f"Enrol each kit once with: vigkit office kit add KIT-ID vigkit-ed25519:… "
            f"--kits FILE (the key vigkit setup printed, or the kit's keys/kit-signing.pub). "
            f"The register goes in {where}.",
        )
    return load_register(path)


def load_register(path: Path) -> Register:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise VigKitError(
            f"cannot read the register of kits {path}: {e.strerror}",
            hint="Check the path given with --kits; vigkit office kit add makes the file.",
        ) from e
    keys = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            kit, public = line.split()
            keys[kit] = parse_public(public)
        except ValueError as e:
            raise VigKitError(
                f"{path}, line {n}, is not 'KIT-ID vigkit-ed25519:…'",
                hint="Fix or remove the line; vigkit office kit add writes lines this way.",
            ) from e
    return Register(path, keys)


def add_kit(path: Path, kit: str, public: str) -> None:
    """Enrol ``kit`` with its signing key; refuses to change a kit's key silently."""
    try:
        parse_public(public)
    except ValueError as e:
        raise VigKitError(
            f"{public!r} is not a kit's signing key: {e}",
            hint="Copy the line vigkit setup printed, or the kit's keys/kit-signing.pub.",
        ) from e
    if not kit or any(ch.isspace() or ch == "/" for ch in kit):
        raise VigKitError(f"{kit!r} is not a kit id", hint="Give the kit's folder name, kit-….")
    existing = load_register(path) if path.exists() else Register(path, {})
    if kit in existing.keys:
        raise VigKitError(
            f"{kit} is already in {path}",
            hint="A kit set up again has a new key: remove its old line by hand first.",
        )
    old = path.read_text(encoding="utf-8") if path.exists() else "# VIG Kit: the office's kits\n"
    atomic_write(path, f"{old}{kit} {public.strip()}\n".encode(), 0o644)
