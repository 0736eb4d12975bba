"""``vigkit demo``: the phone page over a synthetic camera and microphone, on this computer.

The first run makes a data folder with a demo office key, a kit key wrapped with a
passphrase, and the recipients file. The demo writes its passphrase down so later runs
can print it again; a real kit never does this. Setting "the kit's clock" on the demo's
Settings page corrects the demo's own clock only, never this computer's.

The page is served over HTTPS as on a kit (``device.commands.page_server``), with a
certificate from a demo certificate authority made on the first run for 127.0.0.1 and
``localhost`` only (its key is never written: ``device.tls.demo_tls``). A browser warns
until that authority is trusted; plain HTTP on ``--http-port`` offers it for download.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path

from device import age
from device.commands.common import read_passphrase_file, serve_until_signal
from device.commands.page_server import PageAddress, page_server, page_url, secure_page
from device.config import Config
from device.hardware import board
from device.kit import diceware
from device.kit.assembly import open_kit
from device.kit.wall_clock import OwnClock
from device.library import DataDir, atomic_write

DEMO_HOST = "127.0.0.1"  # an address, not "localhost": browsers ignore HSTS for addresses
DEMO_NAMES = ("localhost",)
DEMO_ADDRESSES = (ipaddress.IPv4Address(DEMO_HOST),)
NOTE = (
    "# VIG Kit demo passphrase. A real kit never writes its passphrase down;\n"
    "# the demo does so that each run can show it again.\n"
)


def add_arguments(demo: argparse.ArgumentParser) -> None:
    demo.add_argument("--data", type=Path, default=Path("demo-data"), help="the demo's folder")
    demo.add_argument("--port", type=int, default=8443, help="HTTPS port on 127.0.0.1")
    demo.add_argument(
        "--http-port", type=int, default=8080, help="plain HTTP port (the landing page)"
    )
    demo.add_argument("--passphrase-file", type=Path, help="use this passphrase (first run only)")
    demo.set_defaults(func=demo_command)


def prepare(data: Path, passphrase_file: Path | None) -> str:
    """Make the demo's keys on the first run; return the passphrase."""
    remembered = data / "demo-passphrase.txt"
    if remembered.exists():
        lines = remembered.read_text().splitlines()
        return next(line for line in lines if line and not line.startswith("#"))
    dirs = DataDir(data).ensure()
    passphrase = read_passphrase_file(passphrase_file) if passphrase_file else diceware.generate()
    age.check_passphrase(passphrase)
    office = age.X25519Identity.generate()
    kit = age.X25519Identity.generate()
    atomic_write(dirs.keys / "demo-office.key", age.identity_file_text(office).encode(), 0o600)
    pinned = [str(office.recipient()), str(kit.recipient())]
    work = board.work_factor(board.board_model())
    wrapped = age.wrap_identity(kit, passphrase, work, pinned=pinned)
    atomic_write(dirs.kit_identity_file, wrapped, 0o600)
    recipients = f"# demo office\n{office.recipient()}\n# this kit\n{kit.recipient()}\n"
    atomic_write(dirs.recipients_file, recipients.encode(), 0o644)
    atomic_write(remembered, f"{NOTE}{passphrase}\n".encode(), 0o600)
    return passphrase


def demo_command(args: argparse.Namespace) -> int:
    from device.tls import demo_tls
    from web.kit import PageSettings, create_app  # the web package: this command only

    passphrase = prepare(args.data, args.passphrase_file)
    tls = demo_tls(DataDir(args.data), DEMO_NAMES, DEMO_ADDRESSES)
    address = PageAddress(DEMO_HOST, args.http_port, args.port, https=True)
    cfg = Config(
        data_dir=args.data,
        camera="synthetic",
        microphone="synthetic",
        width=640,
        height=360,
        fps=30,
        bitrate=1_000_000,
        storage_reserve_mb=50,
    )
    kit = open_kit(cfg)
    try:
        clock = OwnClock()  # the demo never sets this computer's clock
        app = create_app(
            kit,
            settings=PageSettings(set_clock=clock, wall=clock.now),
            secure=secure_page(args.data, address),
        )
        server = page_server(app, args.data, address)
        print(f"VIG Kit demo: open {page_url(address, args.port)}", flush=True)
        print(
            f"The demo's certificate authority: {tls.ca} — trust it in this browser "
            f"once, or download it from http://{DEMO_HOST}:{args.http_port}/ "
            "(until then the browser warns).",
            flush=True,
        )
        print(f"Passphrase: {passphrase}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        try:
            serve_until_signal(server)
            print("Stopping: saving any film being recorded…", file=sys.stderr, flush=True)
        finally:
            server.close()
            app.close()
    finally:
        kit.close()
    return 0
