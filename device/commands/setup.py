"""``vigkit setup``: turn a freshly installed kit into a practitioner's kit.

Asks for (or takes by flag, for scripted provisioning) the office's public key, the
practitioner's passphrase (offering five generated words; twice; its strength estimated
with zxcvbn), the kit's name and its Wi-Fi name; generates the Wi-Fi password unless one
is given. Makes the kit's key (kept only wrapped with the passphrase, the scrypt work
chosen for the board), writes ``keys/recipients.txt`` (office + kit) and the config file,
and prints a label with them and the page's address; with ``--wifi-qr`` the label carries
a Wi-Fi join QR code too (also shown in the terminal), only then (issue #17).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import pwd
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from device import age, config
from device.commands.common import read_passphrase_file
from device.config_rules import WIFI_NAME, WIFI_PASSWORD
from device.errors import ConfigError, VigKitError, WeakPassphrase
from device.hardware import board
from device.kit import diceware
from device.kit.label import PAGE_ADDRESS, PAGE_NAME, label_svg, print_terminal_qr
from device.library import DataDir, Library, atomic_write
from device.library.signing import ensure_signing_key, public_text

DEFAULT_CONFIG = Path("/etc/vigkit/vigkit.toml")
KIT_USER = "vigkit"  # the service's user (scripts/install.sh); it must own the data
# No 0/O, 1/l/I: the password is also typed from the label by hand.
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105 - the characters to draw from
PASSWORD_LENGTH = 16  # about 93 bits


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--office-recipient", metavar="AGE1…", help="the office's public key")
    p.add_argument("--passphrase-file", type=Path, help="the practitioner's passphrase")
    p.add_argument("--kit-name", help="the kit's name, shown on the page and the label")
    p.add_argument("--wifi-name", help="the hotspot's name (default: VIG Kit <kit name>)")
    p.add_argument("--wifi-password", help="the hotspot's password (default: generated)")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="the config to write")
    p.add_argument("--data", type=Path, help="the data folder (default: /var/lib/vigkit)")
    p.add_argument("--label", type=Path, help="the label to write (default: LABEL-NAME.svg)")
    p.add_argument(
        "--wifi-qr",
        action="store_true",
        help="put a Wi-Fi join QR code on the label (anyone who sees it can join)",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing config file")
    p.set_defaults(func=setup_command)


def random_wifi_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def check_wifi(name: str, password: str) -> None:
    # the same rules as the wifi_name and wifi_password settings (device.config_rules)
    if not WIFI_NAME.ok(name):
        raise ConfigError(
            f"the Wi-Fi name must be 1 to 32 bytes long; {name!r} is {len(name.encode())}",
            hint="Choose a shorter Wi-Fi name with --wifi-name.",
        )
    if not WIFI_PASSWORD.ok(password):
        raise ConfigError(
            "the Wi-Fi password must be 8 to 63 plain characters (WPA2)",
            hint="Leave --wifi-password out to have one generated.",
        )


def office_recipient(text: str) -> age.Recipient:
    text = text.strip()
    if text.upper().startswith("AGE-SECRET-KEY-"):
        raise VigKitError(
            "that is the office's private key; it must never be put on a kit",
            hint="Give the public key: the line starting age1… (age-keygen -y office.key).",
        )
    found = age.parse_recipients(text)
    if len(found) != 1:
        raise VigKitError(
            "the office key must be one age1… public key",
            hint="Copy the line starting age1… printed by vigkit office keygen or age-keygen.",
        )
    return found[0]


def setup_command(args: argparse.Namespace) -> int:
    ask = _Asker(interactive=sys.stdin.isatty())
    data = DataDir(args.data or config.load().data_dir)
    if data.kit_identity_file.exists():
        raise VigKitError(
            f"{data.kit_identity_file} already exists: this kit is set up",
            hint="A new kit key would leave the kit unable to open its own films. "
            "Use a new --data folder, or move the old one away first.",
        )
    if args.config.exists() and not args.force:
        raise VigKitError(
            f"{args.config} already exists; it was not overwritten",
            hint="Add --force to replace it, or choose another --config.",
        )

    office = office_recipient(
        args.office_recipient or ask.text("The office's public key (age1…)", "--office-recipient")
    )
    passphrase = (
        read_passphrase_file(args.passphrase_file) if args.passphrase_file else ask.new_passphrase()
    )
    kit_name = (args.kit_name or ask.text("The kit's name", "--kit-name", "vigkit")).strip()
    wifi_name = args.wifi_name or ask.text(
        "The kit's Wi-Fi name", "--wifi-name", f"VIG Kit {kit_name}"[:32]
    )
    age.check_passphrase(passphrase, (kit_name, wifi_name))  # a thief knows these names
    wifi_password = args.wifi_password or random_wifi_password()
    check_wifi(wifi_name, wifi_password)

    kit = age.X25519Identity.generate()
    data.ensure()
    work = board.work_factor(board.board_model())
    pinned = [str(office), str(kit.recipient())]  # recipients.txt, pinned under the passphrase
    wrapped = age.wrap_identity(kit, passphrase, work, pinned=pinned)
    atomic_write(data.kit_identity_file, wrapped, 0o600)
    enrol = _signing_key(data)
    recipients = f"# the office\n{office}\n# this kit ({kit_name})\n{kit.recipient()}\n"
    atomic_write(data.recipients_file, recipients.encode(), 0o644)
    values = {
        "kit_name": kit_name,
        "data_dir": str(data.root.absolute()),
        "wifi_name": wifi_name,
        "wifi_password": wifi_password,
    }
    text = "# VIG Kit settings, written by vigkit setup (see docs/configuration.md)\n" + "".join(
        f"{k} = {_toml_string(v)}\n" for k, v in values.items()
    )
    args.config.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(args.config, text.encode(), 0o640)
    config.load(args.config)  # what we wrote must read back
    _hand_over(data, args.config)

    label = args.label or Path(f"vigkit-label-{_file_safe(kit_name)}.svg")
    svg = label_svg(kit_name, wifi_name, wifi_password, join_code=args.wifi_qr)
    atomic_write(label, svg.encode(), 0o600)
    print(f"The kit “{kit_name}” is set up.")
    print(f"  keys:   {data.keys}")
    print(f"  config: {args.config}")
    print(f"  label:  {label}  (print it and stick it on the kit)")
    print(f"Wi-Fi: {wifi_name}\nPassword: {wifi_password}")
    print(f"Then open {PAGE_NAME} (the page: {PAGE_ADDRESS})")
    if args.wifi_qr:
        print("Scan this with a phone's camera to join the kit's Wi-Fi:")
        print_terminal_qr(wifi_name, wifi_password, sys.stdout)
    print("Enrol the kit at the office, so its synced files are trusted there:")
    print(f"  {enrol} --kits FOLDER-OF-THE-OFFICE-KEY/vigkit-kits.txt")
    print("Next: scripts/setup-hotspot.sh (as root), then scripts/install.sh again.")
    return 0


def _signing_key(data: DataDir) -> str:
    """Make the kit's id and its signing key; the office's command that enrols them."""
    library = Library(data.root)
    try:
        kit_id = library.index.kit_id()
    finally:
        library.close()
    public = public_text(ensure_signing_key(data).public_key())
    return f"vigkit office kit add {kit_id} {public}"


def _toml_string(value: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes; \uXXXX for controls).
    return json.dumps(value, ensure_ascii=False)


def _file_safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name) or "kit"


def _hand_over(data: DataDir, config_file: Path) -> None:
    """Run as root on a kit: the data becomes the kit user's, the config root:vigkit."""
    if os.geteuid() != 0:
        return
    try:
        user = pwd.getpwnam(KIT_USER)
    except KeyError:
        return  # not an installed kit (a bench machine): leave root's files to root
    for path in (data.root, *data.root.rglob("*")):  # the index and keys made here too
        os.chown(path, user.pw_uid, user.pw_gid)
    os.chown(config_file, 0, user.pw_gid)


class _Asker:
    """Questions on the terminal; without one, a clear error naming the missing flag."""

    def __init__(self, interactive: bool, read: Callable[[str], str] = input) -> None:
        self._interactive = interactive
        self._read = read

    def _need_terminal(self, flag: str) -> None:
        if not self._interactive:
            raise VigKitError(
                f"no answer for {flag} and no terminal to ask on",
                hint=f"Give {flag} on the command line.",
            )

    def text(self, question: str, flag: str, default: str = "") -> str:
        if not self._interactive and default:
            return default  # scripted: a question with a default takes it
        self._need_terminal(flag)
        shown = f" [{default}]" if default else ""
        while True:
            answer = self._read(f"{question}{shown}: ").strip() or default
            if answer:
                return answer

    def new_passphrase(self) -> str:
        self._need_terminal("--passphrase-file")
        offered = diceware.generate()
        print("The practitioner's passphrase is the only lock on the films if the kit or its")
        print("card is stolen: whoever has the card can try passphrases as fast as their")
        print("computers run, so anything under about 10^12 guesses is refused (estimated")
        print("with zxcvbn: words, names, years and keyboard runs are tried first).")
        print(f"Five words chosen at random for you:\n\n    {offered}\n")
        print("Write them down. Press Enter to take them, or type a passphrase of your own.")
        print("Nobody can recover the passphrase if it is forgotten.")
        for _ in range(5):
            first = getpass.getpass("Passphrase: ") or offered
            try:
                age.check_passphrase(first)
            except WeakPassphrase as e:
                print(f"{e.message}. {e.hint}")
                continue
            if getpass.getpass("Again, to be sure: ") == first:
                return first
            print("The two did not match; once more.")
        raise VigKitError("no passphrase was chosen", hint="Run vigkit setup again.")
