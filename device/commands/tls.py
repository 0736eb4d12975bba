"""``vigkit tls request|install``: the kit's certificate for its secure page, kit side.

``request`` makes the kit's key (once, 0600, in ``keys/tls/``) and writes a certificate
request to carry to the office; ``install`` takes what ``vigkit office ca issue`` wrote
back (the chain, and the key when the office made it) after checking it works for every
page name (device.tls.KitTls). docs/office.md (The kits' certificate authority) has the
whole journey.
"""

from __future__ import annotations

import argparse
import os
import pwd
from pathlib import Path

from device.commands.common import read_file
from device.errors import VigKitError
from device.library import DataDir, atomic_write

HINT = "Check the path of the file the office gave you."
KIT_USER = "vigkit"  # the service's user, as in device.commands.setup (scripts/install.sh)


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="tls_command", metavar="COMMAND", required=True)
    req = sub.add_parser("request", help="make the kit's key (once) and a request for the office")
    req.add_argument(
        "--out", type=Path, required=True, metavar="FILE", help="where the request goes (kit.csr)"
    )
    req.set_defaults(func=request_command)
    ins = sub.add_parser("install", help="install the certificate vigkit office ca issue wrote")
    ins.add_argument(
        "--cert", type=Path, required=True, metavar="FILE", help="KIT-ID.crt from the office"
    )
    ins.add_argument(
        "--key", type=Path, metavar="FILE",
        help="KIT-ID.key, if the office made the key (delete it there)",
    )  # fmt: skip
    ins.set_defaults(func=install_command)
    for command in (req, ins):
        command.add_argument(
            "--data", type=Path, metavar="DIR", help="the kit's data folder (default: the config's)"
        )
        command.add_argument(
            "--config",
            type=Path,
            metavar="FILE",
            help="the kit's settings, e.g. /etc/vigkit/vigkit.toml (for its data_dir)",
        )


def _data(args: argparse.Namespace) -> DataDir:
    if args.data is not None:
        return DataDir(args.data)
    from device import config

    return DataDir(config.load(args.config, env=os.environ).data_dir)


def _hand_over(folder: Path) -> None:
    """Run as root on a kit: ``keys/tls`` becomes the kit user's, as vigkit setup leaves
    the rest of the data (the kit's page offers ``ca.crt`` for download; nginx, started
    as root, reads the key before it drops its rights)."""
    if os.geteuid() != 0:
        return
    try:
        user = pwd.getpwnam(KIT_USER)
    except KeyError:
        return  # not an installed kit (a bench machine): root's files stay root's
    for path in (folder, *folder.iterdir()):
        os.chown(path, user.pw_uid, user.pw_gid)


def request_command(args: argparse.Namespace) -> int:
    from device.tls import KitTls

    data = _data(args)
    if not data.root.is_dir():
        raise VigKitError(
            f"there is no data folder {data.root}",
            hint="Give the kit's data folder with --data (vigkit setup made it).",
        )
    tls = KitTls.of(data)
    made = not tls.key.exists()
    request = tls.request()
    _hand_over(tls.folder)
    atomic_write(args.out, request, 0o644)
    print(f"{args.out}: the kit's certificate request (it holds no secret).")
    if made:
        print(f"The kit's key is {tls.key}; it never leaves the kit.")
    print("At the office: vigkit office ca issue --ca DIR --kit KIT-ID --csr "
          f"{args.out.name} --out DIR")  # fmt: skip
    print("Then here: vigkit tls install --cert KIT-ID.crt")
    return 0


def install_command(args: argparse.Namespace) -> int:
    from device.tls import KitTls

    tls = KitTls.of(_data(args))
    chain = read_file(args.cert, "the certificate", HINT)
    key = read_file(args.key, "the key", HINT) if args.key else None
    before = tls.ca_fingerprint() if tls.ca.is_file() else None
    leaf = tls.install(chain, key, source=str(args.cert))
    _hand_over(tls.folder)
    after = tls.ca_fingerprint()
    print(f"Installed in {tls.folder}: the kit's certificate, valid until "
          f"{leaf.not_valid_after_utc:%Y-%m-%d}.")  # fmt: skip
    if args.key:
        print(f"Now delete {args.key} (and its copy at the office): the kit has it.")
    if before is not None and before != after:
        print("This certificate comes from another CA than the one before: phones must trust")
        print("the new CA (from the kit's landing page) before the page opens without a warning.")
    print(f"The CA phones trust has the SHA-256 fingerprint\n  {after}")
    print("Restart the kit (or its TLS front) to use it.")
    return 0
