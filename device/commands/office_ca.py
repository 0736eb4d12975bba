"""``vigkit office ca init|issue``: the organisation's certificate authority for its kits.

``init`` makes the CA once (on an offline computer, ideally) and prints the fingerprint
people compare on their phones; ``issue`` gives one kit its certificate, from the kit's
request (``--csr``, the key never leaves the kit) or with a key made here for the kit.
docs/office.md (The kits' certificate authority) walks through both.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path

from cryptography import x509

from device.commands.common import read_file, read_passphrase_file
from device.errors import TlsError, VigKitError
from device.library import atomic_write
from device.tls import fingerprint, init_ca, issue, issue_for_csr, load_ca, new_key
from device.tls.authority import (
    CA_CERT,
    CA_KEY,
    MAX_LEAF_DAYS,
    chain_pem,
    check_ca_passphrase,
    check_kit_id,
    private_key_pem,
)

CA_WORDS = 6  # the passphrase offered: six diceware words, about 77 bits


def init_command(args: argparse.Namespace, *, interactive: bool | None = None) -> int:
    folder: Path = args.ca
    for name in (CA_CERT, CA_KEY):
        if (folder / name).exists():  # before asking anything: say it at once
            raise TlsError(
                f"{folder / name} already exists: there is a certificate authority in {folder}",
                hint="It was not replaced (every phone and kit that trusts it would need the "
                "new one). Choose another --ca folder, or move the old one away first.",
            )
    organisation = (args.organisation or "").strip()
    terminal = sys.stdin.isatty() if interactive is None else interactive
    if not organisation:
        if not terminal:
            raise VigKitError(
                "no answer for --organisation and no terminal to ask on",
                hint="Give the organisation's name with --organisation (phones show it).",
            )
        organisation = input("The organisation's name (phones show it): ").strip()
    if args.passphrase_file:
        passphrase = read_passphrase_file(args.passphrase_file)
    elif terminal:
        passphrase = _new_passphrase(organisation)
    else:
        raise VigKitError(
            "no passphrase for the CA's key and no terminal to ask on",
            hint="Give it with --passphrase-file FILE, or run the command in a terminal.",
        )
    cert_path = init_ca(folder, passphrase, organisation)
    authority = load_ca(folder, passphrase)
    print(f"The certificate authority of {organisation} is in {folder}:")
    print(f"  {cert_path}  the certificate phones trust (give it to the kits and phones)")
    print(f"  {folder / CA_KEY}  its key, encrypted with the passphrase: keep it offline")
    print(f"It may vouch only for {', '.join(map(str, [*authority.names, *authority.networks]))}.")
    print(f"Valid until {authority.certificate.not_valid_after_utc:%Y-%m-%d}.")
    print("SHA-256 fingerprint (people compare it on their phones before trusting the CA):")
    print(f"  {fingerprint(authority.certificate)}")
    print("Next, for each kit (its request made there with vigkit tls request):")
    print(f"  vigkit office ca issue --ca {folder} --kit KIT-ID --csr KIT.csr --out DIR")
    return 0


def _new_passphrase(
    organisation: str,
    ask: Callable[[str], str] = getpass.getpass,
) -> str:
    from device.kit import diceware

    offered = diceware.generate(CA_WORDS)
    print("The CA's key is kept encrypted with a passphrase. Whoever has the key file can")
    print("guess passphrases very fast, so it must be long: six random words are offered.")
    print(f"\n    {offered}\n")
    print("Write them down and keep them apart from the key. Press Enter to take them, or")
    print("type a passphrase of your own.")
    for _ in range(5):
        first = ask("Passphrase: ") or offered
        try:
            check_ca_passphrase(first, organisation)
        except TlsError as e:
            print(f"{e.message}. {e.hint}")
            continue
        if ask("Again, to be sure: ") == first:
            return first
        print("The two did not match; once more.")
    raise VigKitError("no passphrase was chosen", hint="Run vigkit office ca init again.")


def issue_command(args: argparse.Namespace, *, interactive: bool | None = None) -> int:
    kit_id = check_kit_id(args.kit)
    out: Path = args.out
    csr = (
        read_file(
            args.csr,
            "the request",
            "Check the path; the kit writes its request with vigkit tls request --out.",
        )
        if args.csr
        else None
    )
    chain_file, key_file = out / f"{kit_id}.crt", out / f"{kit_id}.key"
    for path in (chain_file,) if csr is not None else (chain_file, key_file):
        if path.exists() and not args.force:
            raise VigKitError(
                f"{path} already exists; it was not overwritten",
                hint="Move it away, or add --force to replace it.",
            )
    terminal = sys.stdin.isatty() if interactive is None else interactive
    if args.passphrase_file:
        passphrase = read_passphrase_file(args.passphrase_file)
    elif terminal:
        passphrase = getpass.getpass("Passphrase of the CA's key: ")
    else:
        raise VigKitError(
            "no passphrase for the CA's key and no terminal to ask on",
            hint="Give it with --passphrase-file FILE, or run the command in a terminal.",
        )
    authority = load_ca(args.ca, passphrase)
    days = MAX_LEAF_DAYS if args.days is None else args.days
    key = None
    if csr is not None:
        leaf = issue_for_csr(authority, kit_id, csr, source=str(args.csr), days=days)
    else:
        key = new_key()
        leaf = issue(authority, kit_id, key.public_key(), days=days)
    try:
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:
        raise VigKitError(
            f"cannot make the folder {out}: {e.strerror}",
            hint="Choose a folder this user can write to with --out.",
        ) from e
    atomic_write(chain_file, chain_pem(authority, leaf), 0o644)
    if key is not None:
        atomic_write(key_file, private_key_pem(key), 0o600)
    names = ", ".join(_alt_names(leaf))
    print(f"{chain_file}: the certificate of {kit_id} for {names}, and the CA's")
    print(f"Valid until {leaf.not_valid_after_utc:%Y-%m-%d}: issue a new one before then.")
    if key is not None:
        print(f"{key_file}: the kit's private key. Move it to the kit, then delete it here:")
        print(f"  vigkit tls install --data DIR --cert {chain_file.name} --key {key_file.name}")
        print("  (a request made on the kit, --csr, keeps the key on the kit: prefer it)")
    else:
        print(f"On the kit: vigkit tls install --data DIR --cert {chain_file.name}")
    return 0


def _alt_names(leaf: x509.Certificate) -> list[str]:
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [str(name.value) for name in san]
